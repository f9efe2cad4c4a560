/**
 * The projects the workbench shows: one ServerModel per open project (shared by its
 * tab, the sidebar and the status bar), and which project is current — that of the
 * experiments tab, notebook or file browser the user looked at last.
 */
import { PathExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';
import { findProject, IProjectInfo, ProjectApi } from './api';
import { PlotSelection, selectPlots } from './plotSelection';
import { QueueWhere } from './queueWhere';
import { MessageGate, ServerModel } from './serverModel';

/** Is the message the table's "▶ Run queue" (its toolbar's queue start)? */
export function isQueueStart(message: any): boolean {
  return message?.type === 'queue' && message.op === 'start';
}

/** An open project: its name, client, live table model and where its queue runs. */
export class ProjectSession {
  constructor(
    readonly info: IProjectInfo,
    settings: ServerConnection.ISettings,
    gate: (session: ProjectSession) => MessageGate
  ) {
    this.api = new ProjectApi(settings, info.project);
    this.where = new QueueWhere(info.project);
    const hostGate = gate(this);
    // The table's "▶ Run queue" starts the queue where the sidebar's Start would (one
    // choice per project): through POST queue/start, not the table message, which
    // knows only this machine.
    const queueGate: MessageGate = message => (isQueueStart(message) ? this._startQueue(message) : hostGate(message));
    this.model = new ServerModel(this.api, { gate: queueGate });
    this.model.ready.catch(error => this.model.showError(error));
    // The tab's plots view shows the plots the sidebar's Plots section chose.
    this.plots = new PlotSelection(info.project);
    this.plots.drawer = (id, revisions, metric) => this.api.drawPlot(id, revisions, metric);
    const model = this.model;
    model.setView('panel', panel =>
      selectPlots(panel, this.plots, model.get('table'), (model.get('prefs') ?? {}).colours ?? {})
    );
    this.plots.changed.connect(() => model.refreshView('panel'));
    // The table's start button says where it runs (table.js reads `queue_where` in the Lab).
    model.setView('queue_where', () => this.where.describe());
    this.where.changed.connect(() => model.refreshView('queue_where'));
  }

  readonly api: ProjectApi;
  readonly model: ServerModel;
  readonly plots: PlotSelection;
  /** Where the queue runs when started from the Lab: the sidebar chooses, the table's button follows. */
  readonly where: QueueWhere;

  get project(): string {
    return this.info.project;
  }

  get label(): string {
    return this.info.name || this.info.project || 'root';
  }

  dispose(): void {
    this.model.dispose();
  }

  /** The table's queue start, on the chosen executor; its answer (or refusal) in the table's message line. */
  private async _startQueue(message: any): Promise<boolean> {
    try {
      const jobs = Number.isInteger(message.jobs) && message.jobs > 0 ? message.jobs : 1;
      const answer = await this.api.queueOp('start', { jobs, ...this.where.request() });
      this.model.showMessage(answer.message);
    } catch (error) {
      this.model.showError(error);
    }
    return false; // handled here: the table message is not sent
  }
}

export class Workbench {
  constructor(
    readonly settings: ServerConnection.ISettings,
    private _gate: (session: ProjectSession) => MessageGate
  ) {}

  /** The project sessions by project path. */
  get sessions(): ReadonlyMap<string, ProjectSession> {
    return this._sessions;
  }

  get current(): ProjectSession | null {
    return this._current;
  }

  get currentChanged(): ISignal<this, ProjectSession | null> {
    return this._currentChanged;
  }

  /** The session of a project (opened on first use). */
  open(info: IProjectInfo): ProjectSession {
    let session = this._sessions.get(info.project);
    if (!session) {
      session = new ProjectSession(info, this.settings, this._gate);
      this._sessions.set(info.project, session);
    }
    return session;
  }

  /** The project containing a directory of the server (walks up to the DVC root). */
  async projectOf(directory: string): Promise<IProjectInfo> {
    const known = this._lookups.get(directory);
    if (known) {
      return known;
    }
    const found = findProject(this.settings, directory);
    this._lookups.set(directory, found);
    found.catch(() => this._lookups.delete(directory));
    return found;
  }

  /** The project of a file or directory path; null when it is in none. */
  async projectOfPath(path: string, isDirectory: boolean): Promise<IProjectInfo | null> {
    try {
      return await this.projectOf(isDirectory ? path : PathExt.dirname(path));
    } catch {
      return null;
    }
  }

  setCurrent(session: ProjectSession | null): void {
    if (session !== this._current) {
      this._current = session;
      this._currentChanged.emit(session);
    }
  }

  /** Closes a project's session when nothing shows it any more. */
  release(project: string, stillShown: boolean): void {
    const session = this._sessions.get(project);
    if (session && !stillShown && session !== this._current) {
      session.dispose();
      this._sessions.delete(project);
    }
  }

  private _sessions = new Map<string, ProjectSession>();
  private _lookups = new Map<string, Promise<IProjectInfo>>();
  private _current: ProjectSession | null = null;
  private _currentChanged = new Signal<this, ProjectSession | null>(this);
}
