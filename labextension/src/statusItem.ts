/**
 * The status-bar item "● 2 running · 3 queued" for the current project; a click opens
 * its Experiments tab. Counts come from the live socket's `status` pushes, and from
 * GET status when the project changes or its table does.
 */
import { Widget } from '@lumino/widgets';
import { IStatus } from './api';
import { ProjectSession, Workbench } from './workbench';

/** The item's text: what runs and waits, or that nothing does. */
export function statusText(status: IStatus | null): string {
  if (!status) {
    return '';
  }
  const parts = [];
  if (status.running) {
    parts.push(`${status.running} running`);
  }
  if (status.queued) {
    parts.push(`${status.queued} queued`);
  }
  if (status.failed) {
    parts.push(`${status.failed} failed`);
  }
  return parts.length ? `● ${parts.join(' · ')}` : '○ no experiments running';
}

export class ExperimentsStatus extends Widget {
  constructor(
    workbench: Workbench,
    private _open: () => void
  ) {
    super({ node: document.createElement('div') });
    this.addClass('jp-ExperimentsStatus');
    this.node.title = 'Experiments: click to open the table';
    this.node.addEventListener('click', () => this._open());
    workbench.currentChanged.connect(this._follow, this);
    this._follow(workbench, workbench.current);
  }

  get status(): IStatus | null {
    return this._status;
  }

  private _follow(_: Workbench, session: ProjectSession | null): void {
    if (this._session) {
      this._session.model.statusChanged.disconnect(this._onStatus, this);
      this._session.model.changed.disconnect(this._onTable, this);
    }
    this._session = session;
    this._status = null;
    if (session) {
      session.model.statusChanged.connect(this._onStatus, this);
      session.model.changed.connect(this._onTable, this);
      this._onStatus(session.model, session.model.status);
      void this._fetch();
    }
    this._draw();
  }

  private _onStatus(_: unknown, status: IStatus | null): void {
    if (status) {
      this._status = status;
      this._draw();
    }
  }

  private _onTable(_: unknown, keys: string[]): void {
    if (keys.includes('table')) {
      clearTimeout(this._timer); // at most one read per second while a run updates the table
      this._timer = setTimeout(() => void this._fetch(), 1000);
    }
  }

  private async _fetch(): Promise<void> {
    const session = this._session;
    if (!session) {
      return;
    }
    try {
      const status = await session.api.status();
      if (session === this._session) {
        this._status = status;
        this._draw();
      }
    } catch {
      // the table shows the server's errors; the status bar stays quiet
    }
  }

  private _draw(): void {
    const text = this._session ? statusText(this._status) : '';
    this.node.textContent = text;
    this.node.classList.toggle('jp-mod-running', !!this._status?.running);
    this.node.dataset.running = String(this._status?.running ?? 0);
    this.node.dataset.queued = String(this._status?.queued ?? 0);
    this.node.title = this._session
      ? `Experiments of ${this._session.label}: click to open the table`
      : 'Experiments: no project';
  }

  private _session: ProjectSession | null = null;
  private _status: IStatus | null = null;
  private _timer: any;
}
