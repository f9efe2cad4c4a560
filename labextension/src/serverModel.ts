/**
 * ServerModel: anywidget's model contract (get/set/on/off/send/save_changes) over the
 * jupyter_exp server API, so that jupyter_exp/widgets/table.js runs unchanged in a Lab
 * panel. The state is the server's TableController state; `send` POSTs a table
 * message, and what changed comes back as versioned messages (a `patch` of state keys,
 * or a `table-diff` of rows), both in the POST's answer and over the live websocket:
 * each version is applied once, whichever way it came first. A version gap that the
 * socket does not fill soon, or a reconnect, re-reads the whole table.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { AfmCallback, IAfmModel } from './afm';
import { IStatus, ProjectApi } from './api';

/** Asked before a table message goes to the server; false keeps it back (handled by the host, or refused). */
export type MessageGate = (message: any) => Promise<boolean>;

export interface IServerModelOptions {
  /** The websocket class (ServerConnection settings' WebSocket by default). */
  WebSocket?: typeof WebSocket;
  /** Consulted before each message is sent (notebook-aware apply, lab commands). */
  gate?: MessageGate;
  /** First and longest wait before reconnecting the live socket, in ms. */
  reconnectDelay?: [number, number];
  /** How long a message past a version gap waits for the socket to fill it, in ms. */
  gapWait?: number;
}

/** A `table-diff` (jupyter_exp/server/table_diff.py): rows new or changed, the order when it changed (whole, or as an edit), how to remap cells when the visible columns changed, other table keys. */
export interface ITableDiff {
  type: 'table-diff';
  version: number;
  rows?: any[];
  order?: string[] | null;
  order_edit?: { removed: string[]; moves: [string, string | null][] } | null;
  remap?: { index: number[]; fill: any } | null;
  table?: Record<string, any>;
}

/** The rows a table-diff makes of `rows` (the contract's algorithm); null when it does not fit them. */
export function applyTableDiff(rows: any[], diff: ITableDiff): any[] | null {
  const remap = diff.remap;
  if (remap) {
    rows = rows.map(r => ({
      ...r,
      cells: remap.index.map(i => (i < 0 || i >= r.cells.length ? remap.fill : r.cells[i]))
    }));
  }
  const byKey = new Map<string, any>(rows.map(r => [r.key, r]));
  for (const row of diff.rows ?? []) {
    byKey.set(row.key, row);
  }
  let keys: string[] = rows.map(r => r.key);
  if (diff.order) {
    keys = diff.order;
  } else if (diff.order_edit) {
    const removed = new Set(diff.order_edit.removed);
    keys = keys.filter(k => !removed.has(k));
    for (const [key, after] of diff.order_edit.moves) {
      const at = keys.indexOf(key);
      if (at >= 0) {
        keys.splice(at, 1);
      }
      const to = after === null ? 0 : keys.indexOf(after) + 1;
      if (after !== null && to === 0) {
        return null; // placed after a row the client does not hold
      }
      keys.splice(to, 0, key);
    }
  }
  const next: any[] = [];
  for (const key of keys) {
    const row = byKey.get(key);
    if (!row) {
      return null;
    }
    next.push(row);
  }
  if (!diff.order && !diff.order_edit && next.length !== byKey.size) {
    return null; // a new row without an order to place it
  }
  return next;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export class ServerModel implements IAfmModel {
  constructor(
    readonly api: ProjectApi,
    options: IServerModelOptions = {}
  ) {
    this._WebSocket = options.WebSocket ?? api.settings.WebSocket;
    this._gate = options.gate ?? (() => Promise.resolve(true));
    this._delays = options.reconnectDelay ?? [500, 10000];
    this._gapWait = options.gapWait ?? 1000;
    this._delay = this._delays[0];
    this._connect();
    this.ready = this.resync();
  }

  /** Resolves once the first table has been read (rejects with the server's message). */
  readonly ready: Promise<void>;

  /** The state version last applied (-1 before the first read). */
  get version(): number {
    return this._version;
  }

  /** Fires after any state key changes, with the changed keys. */
  get changed(): ISignal<this, string[]> {
    return this._changed;
  }

  /** The queue counts the server pushes (`status` messages); null until the first one. */
  get status(): IStatus | null {
    return this._status;
  }

  get statusChanged(): ISignal<this, IStatus> {
    return this._statusChanged;
  }

  /** Whether the live socket is open. */
  get connected(): boolean {
    return this._socket?.readyState === 1;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  // -- the AFM contract -------------------------------------------------------------
  get(name: string): any {
    if (name === 'host') {
      return 'lab';
    }
    const view = this._views.get(name);
    if (!view) {
      return this._state[name];
    }
    // The same object until the key or the view changes (table.js compares panels by identity).
    const raw = this._state[name];
    const memo = this._viewed.get(name);
    if (memo && memo.raw === raw) {
      return memo.value;
    }
    const value = view(raw);
    this._viewed.set(name, { raw, value });
    return value;
  }

  /** How the host shows a state key (e.g. the Plot panel through the sidebar's plot selection); null: as it is. */
  setView(name: string, view: ((value: any) => any) | null): void {
    if (view) {
      this._views.set(name, view);
    } else {
      this._views.delete(name);
    }
    this.refreshView(name);
  }

  /** The view of a key changed (not the key): show it again. */
  refreshView(name: string): void {
    this._viewed.delete(name);
    this._fire([name]);
  }

  /** As a Backbone model's set: an equal value changes nothing and fires nothing. */
  set(name: string, value: any): void {
    if (sameValue(this._state[name], value)) {
      return;
    }
    this._state[name] = value;
    this._dirty.add(name);
    this._fire([name]);
  }

  on(event: string, callback: AfmCallback): void {
    let set = this._listeners.get(event);
    if (!set) {
      this._listeners.set(event, (set = new Set()));
    }
    set.add(callback);
  }

  off(event?: string | null, callback?: AfmCallback | null): void {
    if (!event) {
      this._listeners.clear();
    } else if (!callback) {
      this._listeners.delete(event);
    } else {
      this._listeners.get(event)?.delete(callback);
    }
  }

  /** A table message: through the host's gate, then POSTed; what the answer says changed applies at once. */
  send(content: any): void {
    void this.request(content);
  }

  /** Sends what `set` changed that the server keeps: the selection. */
  save_changes(): void {
    if (this._dirty.has('selected')) {
      this._dirty.delete('selected');
      void this.request({ type: 'select', keys: this._state.selected ?? [] }, false);
    }
    this._dirty.clear();
  }

  // -- the rest ---------------------------------------------------------------------
  /** `send`, awaitable: resolves when the answer is applied (or the error shown). */
  async request(content: any, gated = true): Promise<void> {
    if (gated && !(await this._gate(content))) {
      return;
    }
    try {
      const answer = await this.api.post(content);
      if (answer.messages) {
        // The changes as the socket sends them: applied in version order, once.
        for (const message of answer.messages) {
          this.receive(message);
        }
      } else {
        this._applyPatch(answer.patch ?? {}); // a server that answers with whole keys
        if (!this.connected && answer.version > this._version) {
          this._version = answer.version;
        }
      }
    } catch (error) {
      this.showError(error);
    }
  }

  /** Show a failure as the table's one-line message. */
  showError(error: unknown): void {
    const text = error instanceof Error ? error.message : `${error}`;
    this._applyPatch({ message: text.split('\n')[0], message_kind: 'error' });
  }

  /** Show what the host did (e.g. started the queue) as the table's one-line message, which fades. */
  showMessage(text: string): void {
    this._applyPatch({ message: text.split('\n')[0], message_kind: 'info', message_time: Date.now() / 1000 });
  }

  /** Read the whole state again (after a version gap or a reconnect). */
  async resync(): Promise<void> {
    const answer = await this.api.table();
    this._version = answer.version;
    this._applyPatch(answer.state);
    this._applyHeld();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    clearTimeout(this._timer);
    clearTimeout(this._gapTimer);
    this._socket?.close();
    this._socket = null;
    this._listeners.clear();
    Signal.clearData(this);
  }

  /** One message from the live socket (public for tests and hosts that relay pushes). */
  receive(message: any): void {
    if (message.type === 'status') {
      this._status = message.status;
      this._statusChanged.emit(message.status);
      return;
    }
    if (message.type !== 'patch' && message.type !== 'table-diff') {
      return;
    }
    const version = Number(message.version);
    if (version <= this._version) {
      return; // already applied (came both in a POST's answer and over the socket)
    }
    if (version > this._version + 1) {
      // A change in between has not come yet (the socket may bring it: a POST's answer
      // can overtake a push); held, and the whole state read again if it does not come.
      this._held.set(version, message);
      if (!this.connected) {
        void this._resyncQuietly();
      } else if (this._gapTimer === undefined) {
        this._gapTimer = setTimeout(() => {
          this._gapTimer = undefined;
          if (this._held.size) {
            void this._resyncQuietly();
          }
        }, this._gapWait);
      }
      return;
    }
    this._version = version;
    if (message.type === 'patch') {
      this._applyPatch(message.patch ?? {});
    } else if (!this._applyDiff(message)) {
      void this._resyncQuietly();
      return;
    }
    this._applyHeld();
  }

  /** Applies held messages that now follow on, and forgets those already covered. */
  private _applyHeld(): void {
    for (const version of [...this._held.keys()]) {
      if (version <= this._version) {
        this._held.delete(version);
      }
    }
    const next = this._held.get(this._version + 1);
    if (next) {
      this._held.delete(this._version + 1);
      this.receive(next);
    } else if (!this._held.size) {
      clearTimeout(this._gapTimer);
      this._gapTimer = undefined;
    }
  }

  private _applyPatch(patch: Record<string, any>): void {
    const keys = Object.keys(patch);
    for (const key of keys) {
      this._state[key] = patch[key];
      this._dirty.delete(key);
    }
    if (keys.length) {
      this._fire(keys);
    }
  }

  /** Applies a table-diff; false when it does not fit the rows held (then re-read). */
  private _applyDiff(diff: ITableDiff): boolean {
    const table = this._state.table ?? {};
    const next = applyTableDiff(table.rows ?? [], diff);
    if (next === null) {
      return false;
    }
    this._state.table = { ...table, ...(diff.table ?? {}), rows: next };
    this._fire(['table']);
    return true;
  }

  private async _resyncQuietly(): Promise<void> {
    try {
      await this.resync();
    } catch (error) {
      this.showError(error);
    }
  }

  private _fire(keys: string[]): void {
    for (const key of keys) {
      for (const callback of [...(this._listeners.get(`change:${key}`) ?? [])]) {
        callback(this.get(key));
      }
    }
    this._changed.emit(keys);
  }

  private _connect(): void {
    if (this._disposed || !this._WebSocket) {
      return;
    }
    let socket: WebSocket;
    try {
      socket = new this._WebSocket(this.api.liveUrl());
    } catch {
      this._reconnectLater();
      return;
    }
    this._socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this._delay = this._delays[0];
      if (this._reconnecting) {
        this._reconnecting = false;
        void this._resyncQuietly(); // pushes were lost while the socket was down
      }
    };
    socket.onmessage = event => {
      try {
        this.receive(JSON.parse(String(event.data)));
      } catch (error) {
        console.warn('jupyter-exp: bad live message', error);
      }
    };
    socket.onclose = () => {
      if (this._socket === socket) {
        this._socket = null;
        this._reconnecting = true;
        if (!opened) {
          this._delay = Math.min(this._delay * 2, this._delays[1]);
        }
        this._reconnectLater();
      }
    };
  }

  private _reconnectLater(): void {
    if (this._disposed) {
      return;
    }
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), this._delay);
  }

  private _state: Record<string, any> = {};
  private _views = new Map<string, (value: any) => any>();
  private _viewed = new Map<string, { raw: any; value: any }>();
  private _version = -1;
  private _dirty = new Set<string>();
  private _listeners = new Map<string, Set<AfmCallback>>();
  private _changed = new Signal<this, string[]>(this);
  private _status: IStatus | null = null;
  private _statusChanged = new Signal<this, IStatus>(this);
  private _socket: WebSocket | null = null;
  private _WebSocket: typeof WebSocket | undefined;
  private _gate: MessageGate;
  private _delays: [number, number];
  private _delay: number;
  private _timer: any;
  private _gapWait: number;
  private _gapTimer: any = undefined;
  private _held = new Map<number, any>();
  private _reconnecting = false;
  private _disposed = false;
}
