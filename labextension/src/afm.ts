/**
 * The model an anywidget front-end module (AFM) talks to: the part of anywidget's
 * contract that jupyter_exp/widgets/table.js uses. The notebook gives the module a
 * kernel-backed model; the Lab panel gives it a ServerModel with the same methods.
 */
export type AfmCallback = (...args: any[]) => void;

export interface IAfmModel {
  get(name: string): any;
  set(name: string, value: any): void;
  on(event: string, callback: AfmCallback): void;
  off(event?: string | null, callback?: AfmCallback | null): void;
  send(content: any, callbacks?: any, buffers?: ArrayBuffer[]): void;
  save_changes(): void;
}

/** What an AFM exports: `render` draws into `el` and may return a cleanup function. */
export interface IAfmModule {
  render(props: { model: IAfmModel; el: HTMLElement }): void | (() => void) | Promise<void | (() => void)>;
}
