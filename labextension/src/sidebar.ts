/**
 * The Experiments sidebar: compact sections for the current project — its
 * experiments (state, plot colour, step progress), the queue (queueView.ts), the log
 * viewer, the columns, and which plots the tab's plots view shows.
 * The full table lives in the main-area tab; these sections follow the same model.
 */
import { PanelWithToolbar, SidePanel } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { IQueueAnswer } from './api';
import { LogViewer } from './logViewer';
import { esc, QueueView, STATE_ICONS } from './queueView';
import { PlotsView } from './plotsView';
import { ProjectSession, Workbench } from './workbench';

const QUEUE_POLL_MS = 2000;
const LIST_LIMIT = 200; // the sidebar lists this many experiments; the tab shows all

/** A section: a titled PanelWithToolbar around one DOM widget. */
function section(title: string, body: Widget): PanelWithToolbar {
  const panel = new PanelWithToolbar();
  panel.title.label = title;
  panel.addClass('jp-ExperimentsSection');
  panel.addWidget(body);
  return panel;
}

class ExperimentsList extends Widget {
  constructor(private _open: (key: string) => void) {
    super();
    this.addClass('jp-ExperimentsList');
    this.node.addEventListener('click', ev => {
      const item = (ev.target as HTMLElement).closest('[data-key]') as HTMLElement | null;
      if (item) {
        this._open(item.dataset.key as string);
      }
    });
  }

  draw(session: ProjectSession | null): void {
    if (!session) {
      this.node.innerHTML = '<p class="jp-ExperimentsEmpty">Open a notebook or folder inside a DVC project.</p>';
      return;
    }
    const table = session.model.get('table') ?? {};
    const colours: Record<string, string> = (session.model.get('prefs') ?? {}).colours ?? {};
    const rows = (table.rows ?? []).filter((r: any) => r.kind === 'experiment');
    const items = rows.slice(0, LIST_LIMIT).map((r: any) => {
      const name = r.cells?.[0] ?? r.key;
      const p = r.progress;
      const step = p && p.step !== null && p.step !== undefined ? `step ${p.step}${p.total ? `/${p.total}` : ''}` : '';
      const colour = colours[name];
      const dot = colour ? `<span class="jp-ExperimentsList-colour" style="background:${esc(colour)}"></span>` : '';
      return (
        `<li data-key="${esc(r.key)}" class="jp-ExperimentsList-item jp-mod-${esc(r.state || 'success')}" title="${esc(r.error || r.state || '')}">` +
        `<span class="jp-ExperimentsList-state">${STATE_ICONS[r.state || 'success'] ?? '●'}</span>${dot}` +
        `<span class="jp-ExperimentsList-name">${esc(name)}</span><span class="jp-ExperimentsList-step">${esc(step)}</span></li>`
      );
    });
    const more = rows.length > LIST_LIMIT ? `<p class="jp-ExperimentsEmpty">and ${rows.length - LIST_LIMIT} more in the table</p>` : '';
    this.node.innerHTML = rows.length ? `<ul>${items.join('')}</ul>${more}` : '<p class="jp-ExperimentsEmpty">No experiments yet.</p>';
  }
}

class ColumnsView extends Widget {
  constructor(private _sidebar: ExperimentsSidebar) {
    super();
    this.addClass('jp-ExperimentsColumns');
    this.node.addEventListener('change', ev => {
      const box = ev.target as HTMLInputElement;
      if (box.dataset.hide) {
        this._sidebar.session?.model.send({ type: 'hide', column: box.dataset.hide });
      }
    });
  }

  draw(session: ProjectSession | null): void {
    const table = session?.model.get('table') ?? {};
    const columns: any[] = table.all_columns ?? [];
    const signature = JSON.stringify(columns.map(c => [c.id, c.hidden]));
    if (signature === this._signature) {
      return; // a live update must not redraw the boxes under the pointer
    }
    this._signature = signature;
    this.node.innerHTML = columns
      .map(
        c =>
          `<label class="jp-ExperimentsColumns-item"><input type="checkbox" data-hide="${esc(c.id)}" ${c.hidden ? '' : 'checked'}> ` +
          `${esc(c.group === 'info' ? c.label : `${c.group}: ${c.label}`)}</label>`
      )
      .join('');
  }

  private _signature = '';
}

export class ExperimentsSidebar extends SidePanel {
  constructor(
    workbench: Workbench,
    private _openRow: (session: ProjectSession, key: string) => void
  ) {
    super();
    this.id = 'jupyter-exp-sidebar';
    this.addClass('jp-ExperimentsSidebar');
    this.title.caption = 'Experiments';
    this._heading = new Widget();
    this._heading.addClass('jp-ExperimentsSidebar-heading');
    this.header.addWidget(this._heading);
    this._list = new ExperimentsList(key => this.session && this._openRow(this.session, key));
    this._queue = new QueueView(this);
    this.log = new LogViewer();
    this._columns = new ColumnsView(this);
    this.addWidget(section('Experiments', this._list));
    this.addWidget(section('Queue', this._queue));
    this.addWidget(section('Log', this.log));
    this.addWidget(section('Columns', this._columns));
    this._plots = new PlotsView();
    this.addWidget(section('Plots', this._plots));
    workbench.currentChanged.connect(this._follow, this);
    this._follow(workbench, workbench.current);
    this._timer = setInterval(() => {
      if (this.isVisible && !document.hidden) {
        void this.refreshQueue();
      }
    }, QUEUE_POLL_MS);
  }

  readonly log: LogViewer;

  get session(): ProjectSession | null {
    return this._session;
  }

  /** Follow an entry's log (from the queue's Log button or "Show queue logs"). */
  showLog(entry: string, name: string): void {
    if (this._session) {
      this.log.follow(this._session, entry, name);
    }
  }

  /** The running entry, else the newest one with a log: what "Show queue logs" follows. */
  async followBusiest(): Promise<boolean> {
    const queue = await this.refreshQueue();
    const entries = queue?.entries ?? [];
    const pick = entries.find(e => e.state === 'running') ?? [...entries].reverse().find(e => e.log);
    if (pick) {
      this.showLog(pick.id, pick.name);
      return true;
    }
    return false;
  }

  async refreshQueue(): Promise<IQueueAnswer | null> {
    const session = this._session;
    if (!session) {
      this._queue.draw(null);
      return null;
    }
    try {
      const queue = await session.api.queue();
      if (session === this._session) {
        this._queue.draw(queue);
      }
      return queue;
    } catch (error) {
      this._queue.say((error as Error).message, true);
      return null;
    }
  }

  dispose(): void {
    clearInterval(this._timer);
    super.dispose();
  }

  private _follow(_: Workbench, session: ProjectSession | null): void {
    if (this._session) {
      this._session.model.changed.disconnect(this._onChanged, this);
      this._session.model.statusChanged.disconnect(this._onStatus, this);
    }
    this._session = session;
    this._heading.node.textContent = session ? `Project: ${session.label}` : 'No project';
    if (session) {
      session.model.changed.connect(this._onChanged, this);
      session.model.statusChanged.connect(this._onStatus, this);
    }
    this.log.stop();
    this._queue.follow(session);
    this._plots.follow(session);
    this._draw();
    void this.refreshQueue();
  }

  private _onStatus(): void {
    void this.refreshQueue();
  }

  private _onChanged(_: unknown, keys: string[]): void {
    if (keys.includes('table') || keys.includes('prefs')) {
      this._draw();
    }
    if (keys.includes('table') && this._session) {
      const columns = JSON.stringify((this._session.model.get('table') ?? {}).columns ?? []);
      if (columns !== this._plotColumns) {
        this._plotColumns = columns; // the custom plot pickers list the shown columns
        this._plots.draw();
      }
    }
    if (keys.includes('panel') && this._session) {
      const y = (this._session.model.get('panel') ?? {}).y ?? '';
      if (y !== this._plotY) {
        this._plotY = y; // the metric over commits shown is the panel's y
        this._plots.draw();
      }
    }
  }

  private _draw(): void {
    this._list.draw(this._session);
    this._columns.draw(this._session);
  }

  private _session: ProjectSession | null = null;
  private _heading: Widget;
  private _list: ExperimentsList;
  private _queue: QueueView;
  private _columns: ColumnsView;
  private _plots: PlotsView;
  private _plotColumns = '';
  private _plotY = '';
  private _timer: any;
}
