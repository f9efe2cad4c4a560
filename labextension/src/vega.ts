/**
 * Vega for the table's Plot panel, offline: vega, vega-lite and vega-embed are bundled
 * with the extension (a chunk of their own, loaded on the first plot), and given to
 * jupyter_exp/widgets/table.js in two ways:
 *  - the Experiments tab passes `embed` to the table's `render` (an extra prop, which
 *    anywidget's own hosts never pass and the module treats as optional);
 *  - a notebook widget (plain anywidget ESM, no bundler) finds the same function on the
 *    page as `globalThis.jupyterExpVega.embed`, set when this extension activates; in a
 *    page without the extension the panel shows the HTML Python drew instead.
 */
export type EmbedFunction = (el: HTMLElement, spec: any, options?: any) => Promise<any>;

/** Embeds a Vega-Lite spec into `el` with vega-embed (imported on the first call). */
export const embed: EmbedFunction = async (el, spec, options) => {
  const module = await import(/* webpackChunkName: "jupyter-exp-vega" */ 'vega-embed');
  return module.default(el, spec, options);
};

/** Makes `embed` available to notebook widgets of the table on this page. */
export function shareEmbed(): void {
  (globalThis as any).jupyterExpVega = { embed };
}
