/**
 * The sidebar's Plots section: which plots the Experiments tab's plots view shows
 * (the project's DVC plots, the panel's built-in kinds, custom metric-vs-param plots),
 * as VS Code's Plots tree chooses them. The choice is the session's PlotSelection.
 */
import { Widget } from '@lumino/widgets';
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
      if (this._session && input.dataset.plot) {
        this._session.plots.setShown(input.dataset.plot, input.checked);
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
      this._dvcPlots.set(session.project, { plots: answer.plots, error: answer.errors.join('; ') });
    } catch (error) {
      this._dvcPlots.set(session.project, { plots: [], error: (error as Error).message });
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
    const kinds = PLOT_KINDS.map(k => box(k.kind, k.title)).join('');
    const custom = selection.custom
      .map(c =>
        box(
          customId(c),
          `${short(c.metric)} vs ${short(c.param)}`,
          ` <button class="jp-ExperimentsPlots-remove" data-remove="${esc(JSON.stringify([c.metric, c.param]))}" title="remove this plot">✕</button>`
        )
      )
      .join('');
    const columns: any[] = (session.model.get('table') ?? {}).columns ?? [];
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
      `<div class="jp-ExperimentsPlots-head">Custom</div><ul>${custom}</ul>` +
      `<div class="jp-ExperimentsPlots-add"><select class="jp-ExperimentsPlots-metric" aria-label="metric">${options('metrics')}</select>` +
      ` vs <select class="jp-ExperimentsPlots-param" aria-label="param">${options('params')}</select>` +
      ` <button data-cmd="add-plot">Add plot</button></div>`;
  }

  private _session: ProjectSession | null = null;
  private _dvcPlots = new Map<string, { plots: { id: string; title: string }[]; error: string }>();
}
