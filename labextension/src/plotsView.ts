/**
 * The sidebar's Plots section: which plots the Experiments tab's plots view shows
 * (the project's DVC plots, the panel's built-in kinds, trends over commits and over
 * steps with their metric pickers, each Optuna study's history and importances,
 * custom metric-vs-param plots), as VS Code's Plots tree chooses them. The choice is
 * the session's PlotSelection.
 */
import { Widget } from '@lumino/widgets';
import { IPlotsAnswer } from './api';
import { customId, PLOT_KINDS } from './plotSelection';
import { ProjectSession } from './workbench';

function esc(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
}

function short(id: string): string {
  return id.split('.').slice(1).join('.') || id;
}

export class PlotsView extends Widget {
  constructor() {
    super();
    this.addClass('jp-ExperimentsPlots');
    this.node.addEventListener('change', ev => {
      const input = ev.target as HTMLInputElement;
      const session = this._session;
      if (!session) {
        return;
      }
      if (input.dataset.plot) {
        session.plots.setShown(input.dataset.plot, input.checked);
      } else if (input.dataset.trend === 'steps') {
        session.plots.trendMetric = input.value;
      } else if (input.dataset.trend === 'commits') {
        // The metric over commits is the panel's y (as the panel's own y picker sets it).
        const panel = session.model.get('panel');
        if (panel?.kind === 'vega' && panel.keys?.length) {
          session.model.send({ type: 'action', action: 'plot', keys: panel.keys, arg: [panel.x, input.value] });
        }
      }
    });
    this.node.addEventListener('click', ev => {
      const target = ev.target as HTMLElement;
      const session = this._session;
      if (!session) {
        return;
      }
      if (target.dataset.cmd === 'add-plot') {
        const metric = (this.node.querySelector('select.jp-ExperimentsPlots-metric') as HTMLSelectElement)?.value;
        const param = (this.node.querySelector('select.jp-ExperimentsPlots-param') as HTMLSelectElement)?.value;
        if (metric && param) {
          session.plots.addCustom({ metric, param });
        }
      } else if (target.dataset.cmd === 'reload-plots') {
        session.plots.forget();
        void this.load(session);
      } else if (target.dataset.remove) {
        const [metric, param] = JSON.parse(target.dataset.remove);
        session.plots.removeCustom({ metric, param });
      }
    });
  }

  /** Show the plots of a project (and read its DVC plots when not read yet). */
  follow(session: ProjectSession | null): void {
    if (this._session) {
      this._session.plots.changed.disconnect(this.draw, this);
    }
    this._session = session;
    if (session) {
      session.plots.changed.connect(this.draw, this);
      if (!this._dvcPlots.has(session.project)) {
        void this.load(session);
      }
    }
    this.draw();
  }

  /** Read the project's DVC plots again. */
  async load(session: ProjectSession): Promise<void> {
    try {
      const answer = await session.api.plots();
      this._dvcPlots.set(session.project, { ...answer, error: answer.errors.join('; ') });
    } catch (error) {
      const empty = { plots: [], trends: [], studies: [], errors: [] };
      this._dvcPlots.set(session.project, { ...empty, error: (error as Error).message });
    }
    if (session === this._session) {
      this.draw();
    }
  }

  /** Redraw (the selection, or the table's columns, changed). */
  draw(): void {
    const session = this._session;
    if (!session) {
      this.node.innerHTML = '';
      return;
    }
    const selection = session.plots;
    const known = this._dvcPlots.get(session.project);
    const box = (id: string, title: string, extra = '') =>
      `<li><label title="${esc(id)}"><input type="checkbox" data-plot="${esc(id)}" ${selection.isShown(id) ? 'checked' : ''}> ${esc(title)}</label>${extra}</li>`;
    const dvc = known
      ? known.plots.map(p => box(p.id, p.title)).join('') ||
        '<li class="jp-ExperimentsEmpty">No plots in dvc.yaml.</li>'
      : '<li class="jp-ExperimentsEmpty">Reading…</li>';
    const kinds = PLOT_KINDS.filter(k => k.kind !== 'commits')
      .map(k => box(k.kind, k.title))
      .join('');
    const columns: any[] = (session.model.get('table') ?? {}).columns ?? [];
    const panel = session.model.get('panel');
    const metricOptions = (chosen: string) =>
      columns
        .filter(c => c.group === 'metrics')
        .map(c => `<option value="${esc(c.id)}" ${c.id === chosen ? 'selected' : ''}>${esc(short(c.id))}</option>`)
        .join('');
    const overCommits = ` <select data-trend="commits" aria-label="metric over commits" title="the metric over commits (the panel's y)">${metricOptions(panel?.y ?? '')}</select>`;
    const steps = (known?.trends ?? []).map(t => {
      const names = [...new Set([...t.metrics, ...(selection.trendMetric ? [selection.trendMetric] : [])])];
      const options = [['', 'every metric'], ...names.map(n => [n, n])]
        .map(([v, l]) => `<option value="${esc(v)}" ${v === selection.trendMetric ? 'selected' : ''}>${esc(l)}</option>`)
        .join('');
      return box(t.id, t.title, ` <select data-trend="steps" aria-label="metric over steps">${options}</select>`);
    });
    const trends = box('commits', 'Trend over commits', overCommits) + steps.join('');
    const studies = known
      ? (known.studies ?? []).map(p => box(p.id, p.title)).join('') || '<li class="jp-ExperimentsEmpty">No Optuna studies.</li>'
      : '';
    const custom = selection.custom
      .map(c =>
        box(
          customId(c),
          `${short(c.metric)} vs ${short(c.param)}`,
          ` <button class="jp-ExperimentsPlots-remove" data-remove="${esc(JSON.stringify([c.metric, c.param]))}" title="remove this plot">✕</button>`
        )
      )
      .join('');
    const options = (group: string) =>
      columns
        .filter(c => c.group === group)
        .map(c => `<option value="${esc(c.id)}">${esc(short(c.id))}</option>`)
        .join('');
    this.node.innerHTML =
      `<div class="jp-ExperimentsPlots-head">DVC plots <button data-cmd="reload-plots" title="read dvc.yaml's plots again">↻</button></div>` +
      `<ul>${dvc}</ul>` +
      (known?.error ? `<p class="jp-ExperimentsEmpty">${esc(known.error)}</p>` : '') +
      `<div class="jp-ExperimentsPlots-head">In the Plot panel</div><ul>${kinds}</ul>` +
      `<div class="jp-ExperimentsPlots-head">Trends</div><ul class="jp-ExperimentsPlots-trends">${trends}</ul>` +
      `<div class="jp-ExperimentsPlots-head">Studies</div><ul class="jp-ExperimentsPlots-studies">${studies}</ul>` +
      `<div class="jp-ExperimentsPlots-head">Custom</div><ul>${custom}</ul>` +
      `<div class="jp-ExperimentsPlots-add"><select class="jp-ExperimentsPlots-metric" aria-label="metric">${options('metrics')}</select>` +
      ` vs <select class="jp-ExperimentsPlots-param" aria-label="param">${options('params')}</select>` +
      ` <button data-cmd="add-plot">Add plot</button></div>`;
  }

  private _session: ProjectSession | null = null;
  private _dvcPlots = new Map<string, IPlotsAnswer & { error: string }>();
}
