/**
 * Where the sidebar's Start runs the queue: this machine, a local Dask cluster, or the
 * Dask scheduler at an address typed in, and whether its workers share the project's
 * file system (auto: detected). Kept per project in the browser, as the plot selection.
 */
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

  set(change: Partial<IWhere>): void {
    this._where = { ...this._where, ...change };
    try {
      this._store?.setItem(this._key, JSON.stringify(this._where));
    } catch {
      // storage full or refused: the choice still holds for this page
    }
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
}
