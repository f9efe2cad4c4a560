/**
 * Which plots the Experiments tab's plots view shows, as the sidebar's Plots section
 * chooses them (VS Code's Plots tree): the project's DVC plots one by one, the built-in
 * kinds (metrics over steps, metric vs param, parallel coordinates), and custom
 * metric-vs-param plots the user adds. The table's Plot panel is the server's; this
 * host shows it through `selectPlots`, which drops the hidden plots and adds the
 * custom ones (drawn from the table's rows, in the rows' plot colours).
 */
import { ISignal, Signal } from '@lumino/signaling';

/** A custom plot: a metric against a param, one point per plotted experiment (column ids). */
export interface ICustomPlot {
  metric: string;
  param: string;
}

/** The built-in plot kinds of the Plot panel, which the section lists besides DVC's plots. */
export const PLOT_KINDS: { kind: string; title: string }[] = [
  { kind: 'steps', title: 'Metrics over steps' },
  { kind: 'scatter', title: 'Metric vs param (axes in the panel)' },
  { kind: 'parallel', title: 'Parallel coordinates' }
];

/** Where a selection is kept (the browser's localStorage by default). */
export interface ISelectionStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export class PlotSelection {
  constructor(
    readonly project: string,
    private _store: ISelectionStore | null = typeof localStorage === 'undefined' ? null : localStorage
  ) {
    try {
      const saved = JSON.parse(this._store?.getItem(this._key) ?? '{}');
      this._hidden = new Set(Array.isArray(saved.hidden) ? saved.hidden.map(String) : []);
      this._custom = Array.isArray(saved.custom)
        ? saved.custom.filter((c: any) => typeof c?.metric === 'string' && typeof c?.param === 'string')
        : [];
    } catch {
      // an unreadable saved selection: start with every plot shown
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether a plot (an id such as `template:loss.csv`, or a kind such as `parallel`) is shown. */
  isShown(id: string): boolean {
    return !this._hidden.has(id);
  }

  setShown(id: string, shown: boolean): void {
    if (shown === this.isShown(id)) {
      return;
    }
    if (shown) {
      this._hidden.delete(id);
    } else {
      this._hidden.add(id);
    }
    this._save();
  }

  get custom(): readonly ICustomPlot[] {
    return this._custom;
  }

  addCustom(plot: ICustomPlot): void {
    if (!this._custom.some(c => c.metric === plot.metric && c.param === plot.param)) {
      this._custom = [...this._custom, { metric: plot.metric, param: plot.param }];
      this._save();
    }
  }

  removeCustom(plot: ICustomPlot): void {
    this._custom = this._custom.filter(c => c.metric !== plot.metric || c.param !== plot.param);
    this._hidden.delete(customId(plot)); // added again later, it shows
    this._save();
  }

  /** A number that changes with every change of the selection (for memos). */
  get version(): number {
    return this._version;
  }

  private get _key(): string {
    return `jupyter-exp:plots:${this.project}`;
  }

  private _save(): void {
    this._version += 1;
    try {
      this._store?.setItem(this._key, JSON.stringify({ hidden: [...this._hidden], custom: this._custom }));
    } catch {
      // storage full or refused: the selection still holds for this page
    }
    this._changed.emit();
  }

  private _hidden = new Set<string>();
  private _custom: ICustomPlot[] = [];
  private _version = 0;
  private _changed = new Signal<this, void>(this);
}

export function customId(plot: ICustomPlot): string {
  return `custom:${plot.metric}|${plot.param}`;
}

function label(id: string): string {
  return id.split('.').slice(1).join('.') || id;
}

/** A metric-vs-param scatter of the panel's rows, from the table's cells. */
export function customSpec(plot: ICustomPlot, panel: any, table: any, colours: Record<string, string>): any | null {
  const columns: any[] = table?.columns ?? [];
  const x = columns.findIndex(c => c.id === plot.param);
  const y = columns.findIndex(c => c.id === plot.metric);
  if (x < 0 || y < 0) {
    return null; // a column the table does not show now
  }
  const keys = new Set<string>(panel.keys ?? []);
  const values = (table.rows ?? [])
    .filter((r: any) => keys.has(r.key))
    .map((r: any) => ({ experiment: String(r.cells[0]), x: Number(r.cells[x]), y: Number(r.cells[y]) }))
    .filter((v: any) => Number.isFinite(v.x) && Number.isFinite(v.y));
  const names = values.map((v: any) => v.experiment);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${label(plot.metric)} vs ${label(plot.param)}`,
    width: 300,
    height: 300,
    data: { values },
    mark: { type: 'point', filled: true, size: 80, tooltip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: label(plot.param), scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: label(plot.metric), scale: { zero: false } },
      color: {
        field: 'experiment',
        type: 'nominal',
        title: 'experiment',
        scale: { domain: names, range: names.map((n: string) => colours[n] ?? '#888888') }
      }
    }
  };
}

/** The Plot panel as the selection shows it: hidden plots dropped, custom plots added. Other panels as they are. */
export function selectPlots(panel: any, selection: PlotSelection, table: any, colours: Record<string, string>): any {
  if (!panel || panel.kind !== 'vega' || !Array.isArray(panel.specs)) {
    return panel;
  }
  const specs = panel.specs.filter((s: any) => selection.isShown(s.id) && selection.isShown(s.kind));
  for (const plot of selection.custom) {
    const id = customId(plot);
    const spec = selection.isShown(id) ? customSpec(plot, panel, table, colours) : null;
    if (spec) {
      specs.push({ id, kind: 'custom', title: spec.title, spec });
    }
  }
  return { ...panel, specs };
}
