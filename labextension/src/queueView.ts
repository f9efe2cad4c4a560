/**
 * The sidebar's Queue section: start a worker running the queue -j at a time on this
 * machine, a local Dask cluster or a Dask scheduler (with or without a shared file
 * system; the choice is the project session's QueueWhere, which the table's "▶ Run
 * queue" uses too), stop or kill it, and per entry follow its log, retry, remove or
 * kill it. An entry that runs elsewhere says where.
 */
import { Widget } from '@lumino/widgets';
import { IQueueAnswer } from './api';
import { QueueWhere } from './queueWhere';
import { ProjectSession } from './workbench';

export function esc(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
}

export const STATE_ICONS: Record<string, string> = {
  running: '◉',
  queued: '◷',
  failed: '✕',
  success: '●',
  interrupted: '◌'
};

/** What the Queue section needs of the sidebar around it. */
export interface IQueueHost {
  readonly session: ProjectSession | null;
  showLog(entry: string, name: string): void;
  refreshQueue(): Promise<IQueueAnswer | null>;
}

export class QueueView extends Widget {
  constructor(private _host: IQueueHost) {
    super();
    this.addClass('jp-ExperimentsQueue');
    this.node.innerHTML =
      '<div class="jp-ExperimentsQueue-controls">' +
      '<button data-op="start" title="start a worker process that runs the queue, -j at a time">▶ Start</button>' +
      '<label title="experiments at a time">-j <input class="jp-ExperimentsQueue-jobs" type="number" min="1" max="32" value="1"></label>' +
      '<button data-op="stop" title="stop after the experiments running now">■ Stop</button>' +
      '<button data-op="kill" title="stop now, killing the running experiments">Kill</button>' +
      '<button data-op="remove-done" title="remove finished entries">Clear done</button></div>' +
      '<div class="jp-ExperimentsQueue-where">' +
      '<label title="where Start runs the queue">on <select class="jp-ExperimentsQueue-executor">' +
      '<option value="local">this machine</option><option value="dask">a local Dask cluster</option>' +
      '<option value="address">a Dask scheduler…</option></select></label>' +
      '<input class="jp-ExperimentsQueue-address" type="text" placeholder="dask://HOST:PORT" spellcheck="false" ' +
      'title="the Dask scheduler\'s address">' +
      '<label title="whether the Dask workers see the project at the same path (auto: ask them)">files ' +
      '<select class="jp-ExperimentsQueue-sharedfs"><option value="auto">auto</option>' +
      '<option value="shared">shared</option><option value="not-shared">not shared</option></select></label></div>' +
      // The answer to a button goes right under the controls: seen however long the queue.
      '<div class="jp-ExperimentsQueue-message" role="status"></div>' +
      '<div class="jp-ExperimentsQueue-workers"></div><ul class="jp-ExperimentsQueue-entries"></ul>';
    this.node.addEventListener('click', ev => void this._click(ev));
    this.node.addEventListener('change', ev => this._changed(ev));
    this._showWhere();
  }

  /** Follow another project: its own choice of where the queue runs. */
  follow(session: ProjectSession | null): void {
    this._where?.changed.disconnect(this._showWhere, this);
    this._where = session ? session.where : null;
    this._where?.changed.connect(this._showWhere, this);
    this._showWhere();
  }

  draw(queue: IQueueAnswer | null): void {
    const workers = queue?.workers ?? [];
    this._el('workers').textContent = workers.length
      ? `${workers.length} worker${workers.length > 1 ? 's' : ''}: ${workers.map(w => `pid ${w.pid}, -j ${w.jobs}`).join('; ')}`
      : 'No worker running.';
    const entries = queue?.entries ?? [];
    this._el('entries').innerHTML = entries.length
      ? entries
          .map(
            e =>
              `<li class="jp-ExperimentsQueue-entry jp-mod-${esc(e.state)}" data-entry="${esc(e.id)}" data-name="${esc(e.name)}">` +
              `<span class="jp-ExperimentsList-state">${STATE_ICONS[e.state] ?? '○'}</span>` +
              `<span class="jp-ExperimentsList-name" title="${esc(JSON.stringify(e.params))}">${esc(e.name)}</span>` +
              `<span class="jp-ExperimentsQueue-state">${esc(e.state)}</span>` +
              (e.where ? `<span class="jp-ExperimentsQueue-worker" title="${esc(e.where)}">${esc(e.where)}</span>` : '') +
              `<button data-entry-op="log" title="follow the log" ${e.log || e.state === 'running' ? '' : 'disabled'}>Log</button>` +
              (e.state === 'failed' || e.state === 'interrupted'
                ? '<button data-entry-op="retry" title="queue it again">Retry</button>'
                : '') +
              (e.state === 'running'
                ? '<button data-entry-op="kill" title="stop this experiment now">■</button>'
                : '<button data-entry-op="remove" title="remove from the queue">✕</button>') +
              '</li>'
          )
          .join('')
      : '<li class="jp-ExperimentsEmpty">The queue is empty.</li>';
  }

  say(text: string, error = false): void {
    const box = this._el('message');
    box.textContent = text;
    box.classList.toggle('jp-mod-error', error);
  }

  private _el<T extends HTMLElement = HTMLElement>(part: string): T {
    return this.node.querySelector(`.jp-ExperimentsQueue-${part}`) as T;
  }

  /** The controls as the project's saved choice; the address and files only for Dask. */
  private _showWhere(): void {
    const where = this._where?.where ?? { executor: 'local', address: '', sharedFs: 'auto' };
    this._el<HTMLSelectElement>('executor').value = where.executor;
    const address = this._el<HTMLInputElement>('address');
    address.value = where.address;
    address.hidden = where.executor !== 'address';
    const shared = this._el<HTMLSelectElement>('sharedfs');
    shared.value = where.sharedFs;
    shared.disabled = where.executor === 'local';
  }

  private _changed(ev: Event): void {
    const target = ev.target as HTMLElement;
    if (!this._where || !target.closest('.jp-ExperimentsQueue-where')) {
      return;
    }
    this._where.set({
      executor: this._el<HTMLSelectElement>('executor').value as any,
      address: this._el<HTMLInputElement>('address').value.trim(),
      sharedFs: this._el<HTMLSelectElement>('sharedfs').value as any
    });
    this._showWhere();
  }

  private async _click(ev: MouseEvent): Promise<void> {
    const button = (ev.target as HTMLElement).closest('button') as HTMLButtonElement | null;
    const session = this._host.session;
    if (!button || !session) {
      return;
    }
    const op = button.dataset.op;
    const entry = button.closest('[data-entry]') as HTMLElement | null;
    try {
      let answer: { message: string } | null = null;
      if (op === 'start') {
        const jobs = Number(this._el<HTMLInputElement>('jobs').value || '1');
        const where = session.where.request();
        answer = await session.api.queueOp('start', { jobs, ...where });
      } else if (op === 'stop' || op === 'kill') {
        answer = await session.api.queueOp('stop', { kill: op === 'kill' });
      } else if (op === 'remove-done') {
        const queue = await session.api.queue();
        const ids = queue.entries.filter(e => e.state !== 'queued' && e.state !== 'running').map(e => e.id);
        answer = ids.length ? await session.api.queueOp('remove', { ids, all: false }) : { message: 'Nothing to clear.' };
      } else if (entry && button.dataset.entryOp === 'log') {
        this._host.showLog(entry.dataset.entry as string, entry.dataset.name as string);
      } else if (entry && button.dataset.entryOp === 'retry') {
        answer = await session.api.queueOp('retry', { ids: [entry.dataset.entry] });
      } else if (entry && button.dataset.entryOp === 'kill') {
        answer = await session.api.queueOp('kill', { ids: [entry.dataset.entry] });
      } else if (entry && button.dataset.entryOp === 'remove') {
        answer = await session.api.queueOp('remove', { ids: [entry.dataset.entry], all: false });
      }
      if (answer) {
        this.say(answer.message);
      }
    } catch (error) {
      this.say((error as Error).message, true);
    }
    void this._host.refreshQueue();
  }

  private _where: QueueWhere | null = null;
}
