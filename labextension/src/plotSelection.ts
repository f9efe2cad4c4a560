/**
 * Which plots the Experiments tab's plots view shows, as the sidebar's Plots section
 * chooses them (VS Code's Plots tree): the project's DVC plots one by one, the built-in
 * kinds (metrics over steps, metric vs param, parallel coordinates, the trend over
 * commits), custom metric-vs-param plots the user adds, and plots the panel does not
 * draw itself, shown only when chosen: trends over steps (DVCLive's histories of the
 * plotted experiments, in their colours, one metric or all) and each Optuna study's
 * optimization history and param importances, drawn by the server (`GET plots?plot=`).
 * The table's Plot panel is the server's; this host shows it through `selectPlots`,
 * which drops the hidden plots and adds the custom ones (drawn from the table's rows,
 * in the rows' plot colours) and the chosen server-drawn ones.
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
  { kind: 'parallel', title: 'Parallel coordinates' },
  { kind: 'commits', title: 'Trend over commits' }
];

/** The sidebar's choice of the trends over steps. */
export const STEPS = 'trend:steps';

/** Plot ids drawn on request rather than by the Plot panel: shown only once chosen. */
export function isOnRequest(id: string): boolean {
  return id.startsWith('trend:') || id.startsWith('study:');
}

/** Draws an on-request plot: the panel entries for a plot id, the rows' `label=rev` pairs and a metric. */
export type PlotDrawer = (id: string, revisions: string[], metric: string) => Promise<{ specs: any[] }>;

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
      this._chosen = new Set(Array.isArray(saved.chosen) ? saved.chosen.map(String).filter(isOnRequest) : []);
      this._trendMetric = typeof saved.trendMetric === 'string' ? saved.trendMetric : '';
    } catch {
      // an unreadable saved selection: start with every plot shown
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Whether a plot (an id such as `template:loss.csv`, or a kind such as `parallel`) is shown. */
  isShown(id: string): boolean {
    return isOnRequest(id) ? this._chosen.has(id) : !this._hidden.has(id);
  }

  setShown(id: string, shown: boolean): void {
    if (shown === this.isShown(id)) {
      return;
    }
    if (isOnRequest(id)) {
      if (shown) {
        this._chosen.add(id);
      } else {
        this._chosen.delete(id);
      }
    } else if (shown) {
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

  /** The metric whose history the trend over steps shows ('' : every metric). */
  get trendMetric(): string {
    return this._trendMetric;
  }

  set trendMetric(metric: string) {
    if (metric !== this._trendMetric) {
      this._trendMetric = metric;
      this._save();
    }
  }

  /** Who draws the on-request plots (the session's server client). */
  drawer: PlotDrawer | null = null;

  /**
   * The chosen on-request plots for `panel`'s rows, as panel entries: those drawn already;
   * the others are asked for, and `changed` fires when they arrive.
   */
  drawn(panel: any, table: any): any[] {
    const rows = new Map<string, any>((table?.rows ?? []).map((r: any) => [r.key, r]));
    const revisions = (panel.keys ?? [])
      .map((k: string) => rows.get(k))
      .filter((r: any) => r && r.kind !== 'checkpoint')
      .map((r: any) => (r.kind === 'workspace' ? 'workspace' : `${r.cells?.[0] ?? r.rev}=${r.rev}`));
    const entries: any[] = [];
    for (const id of this._chosen) {
      const trend = id.startsWith('trend:');
      const metric = trend ? this._trendMetric : '';
      const key = JSON.stringify([id, trend ? revisions : [], metric]);
      const known = this._drawn.get(key);
      if (known) {
        entries.push(...known);
      } else if (this.drawer && !this._asked.has(key)) {
        this._asked.add(key);
        this.drawer(id, trend ? revisions : [], metric)
          .then(answer => answer.specs ?? [])
          .catch(error => [{ id, kind: 'error', title: id, message: (error as Error).message }])
          .then(specs => {
            this._drawn.set(key, specs);
            this._asked.delete(key);
            this._version += 1;
            this._changed.emit();
          });
      }
    }
    return entries;
  }

  /** Forget the drawn on-request plots (drawn again when next shown: new trials, new steps). */
  forget(): void {
    this._drawn.clear();
    this._version += 1;
    this._changed.emit();
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
      const saved = { hidden: [...this._hidden], custom: this._custom, chosen: [...this._chosen], trendMetric: this._trendMetric };
      this._store?.setItem(this._key, JSON.stringify(saved));
    } catch {
      // storage full or refused: the selection still holds for this page
    }
    this._changed.emit();
  }

  private _hidden = new Set<string>();
  private _custom: ICustomPlot[] = [];
  private _chosen = new Set<string>();
  private _trendMetric = '';
  private _drawn = new Map<string, any[]>();
  private _asked = new Set<string>();
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
  // The panel's own trends over steps show as the sidebar's "trend:steps" choice says (its study plots by their ids).
  const shown = (s: any) => (String(s.id).startsWith('trend:') ? selection.isShown(STEPS) : selection.isShown(s.id));
  const specs = panel.specs.filter((s: any) => shown(s) && selection.isShown(s.kind));
  for (const plot of selection.custom) {
    const id = customId(plot);
    const spec = selection.isShown(id) ? customSpec(plot, panel, table, colours) : null;
    if (spec) {
      specs.push({ id, kind: 'custom', title: spec.title, spec });
    }
  }
  // The panel draws a plotted trial's study itself: a chosen study plot it holds is not added twice.
  const held = new Set(specs.map((s: any) => s.id));
  specs.push(...selection.drawn(panel, table).filter((s: any) => !held.has(s.id)));
  return { ...panel, specs };
}
