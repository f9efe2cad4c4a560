/**
 * Where the queue runs when started from the Lab (the sidebar's Start and the table's
 * "▶ Run queue" alike): this machine, a local Dask cluster, or the Dask scheduler at an
 * address typed in, and whether its workers share the project's file system (auto:
 * detected). One per open project (its ProjectSession holds it), kept in the browser
 * per project, as the plot selection; the sidebar's Queue section is where it is chosen.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { ISelectionStore } from './plotSelection';

export type ExecutorChoice = 'local' | 'dask' | 'address';
export type SharedFsChoice = 'auto' | 'shared' | 'not-shared';

export interface IWhere {
  executor: ExecutorChoice;
  /** The scheduler's `dask://HOST:PORT`, used when `executor` is `address`. */
  address: string;
  sharedFs: SharedFsChoice;
}

/** What POST queue/start gets besides `jobs`. */
export interface IWhereRequest {
  executor: string;
  shared_fs: boolean | null;
}

const EXECUTORS: ExecutorChoice[] = ['local', 'dask', 'address'];
const SHARED: SharedFsChoice[] = ['auto', 'shared', 'not-shared'];

export class QueueWhere {
  constructor(
    readonly project: string,
    private _store: ISelectionStore | null = typeof localStorage === 'undefined' ? null : localStorage
  ) {
    try {
      const saved = JSON.parse(this._store?.getItem(this._key) ?? '{}');
      this._where = {
        executor: EXECUTORS.includes(saved.executor) ? saved.executor : 'local',
        address: typeof saved.address === 'string' ? saved.address : '',
        sharedFs: SHARED.includes(saved.sharedFs) ? saved.sharedFs : 'auto'
      };
    } catch {
      // an unreadable saved choice: this machine
    }
  }

  get where(): Readonly<IWhere> {
    return this._where;
  }

  /** Fires when the choice changed (the sidebar's controls and the table's button follow it). */
  get changed(): ISignal<this, Readonly<IWhere>> {
    return this._changed;
  }

  set(change: Partial<IWhere>): void {
    const next = { ...this._where, ...change };
    if (JSON.stringify(next) === JSON.stringify(this._where)) {
      return;
    }
    this._where = next;
    try {
      this._store?.setItem(this._key, JSON.stringify(this._where));
    } catch {
      // storage full or refused: the choice still holds for this page
    }
    this._changed.emit(this._where);
  }

  /** Where a start runs, in words (a button's title says it): "in a worker process on the server's machine". */
  describe(): string {
    const { executor, address, sharedFs } = this._where;
    if (executor === 'local') {
      return "in a worker process on the server's machine";
    }
    const files = sharedFs === 'auto' ? '' : sharedFs === 'shared' ? ' (shared file system)' : ' (no shared file system)';
    const place =
      executor === 'dask'
        ? 'on a local Dask cluster'
        : `on the Dask scheduler at ${address.trim().replace(/^dask:\/\//, '') || '(no address typed yet)'}`;
    return `${place}${files}`;
  }

  /**
   * The executor and shared_fs fields of a start request. The server checks the
   * address; an empty one is refused here, as it would otherwise mean this machine.
   */
  request(): IWhereRequest {
    const { executor, address, sharedFs } = this._where;
    if (executor === 'local') {
      return { executor: 'local', shared_fs: null };
    }
    const spec = executor === 'dask' ? 'dask' : address.trim();
    if (!spec) {
      throw new Error("Type the Dask scheduler's address as dask://HOST:PORT, or choose another place to run.");
    }
    return { executor: spec, shared_fs: sharedFs === 'auto' ? null : sharedFs === 'shared' };
  }

  private get _key(): string {
    return `jupyter-exp:queue-where:${this.project}`;
  }

  private _where: IWhere = { executor: 'local', address: '', sharedFs: 'auto' };
  private _changed = new Signal<this, Readonly<IWhere>>(this);
}
