/**
 * The network edge for jest: a fake fetch answering the jupyter_exp routes from an
 * in-memory TableController-like state, and a fake WebSocket the test pushes through.
 */
import { ServerConnection } from '@jupyterlab/services';

export interface IRequestSeen {
  method: string;
  route: string;
  query: URLSearchParams;
  body: any;
}

export class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  push(message: unknown): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  close(): void {
    this.readyState = 3;
    this.onclose?.();
  }
}

/** A row as view.build makes it. */
export function row(name: string, cells: any[], extra: Record<string, any> = {}): any {
  return {
    key: `abc1234/${name}`,
    kind: 'experiment',
    depth: 1,
    rev: 'f00ba12',
    state: 'success',
    step: null,
    starred: false,
    children: 0,
    expanded: false,
    error: '',
    cells: [name, 'success', '2026-11-27', ...cells],
    progress: null,
    ...extra
  };
}

export function table(rows: any[]): any {
  const columns = [
    { id: 'experiment', label: 'Experiment', group: 'info', type: 'text' },
    { id: 'state', label: 'State', group: 'info', type: 'text' },
    { id: 'created', label: 'Created', group: 'info', type: 'date' },
    { id: 'params.lr', label: 'lr', group: 'params', file: 'params.yaml', type: 'number' },
    { id: 'metrics.score', label: 'score', group: 'metrics', file: 'metrics.json', type: 'number' }
  ];
  return {
    columns,
    all_columns: columns.map(c => ({ ...c, hidden: false })),
    rows,
    counts: { experiments: rows.length, shown: rows.length, success: rows.length, running: 0, queued: 0, failed: 0 },
    operators: ['=', '<', '>'],
    inactive_filters: []
  };
}

export class FakeServer {
  seen: IRequestSeen[] = [];
  version = 1;
  state: Record<string, any>;
  /** What POST table answers: a patch for a message (sent as one `patch` message). */
  answer: (message: any) => Record<string, any> = () => ({});
  /** Or the answer's messages themselves (the test keeps `version` and `state` in step). */
  answerMessages: (message: any) => any[] | null = () => null;
  /** Other routes (`queue/start`, ...): the JSON answer and its status, or null for a 404. */
  answerRoute: (route: string, body: any) => { status?: number; json: unknown } | null = () => null;

  constructor(rows: any[]) {
    this.state = {
      table: table(rows),
      prefs: { sort: [], filters: [], colours: {} },
      selected: [],
      message: '',
      message_kind: '',
      pending: {},
      panel: {},
      live: true
    };
  }

  fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const route = url.pathname.replace(/^\/jupyter-exp\//, '');
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    this.seen.push({ method: request.method, route, query: url.searchParams, body });
    const json = (data: unknown, status = 200) =>
      new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/json' } });
    if (route === 'table' && request.method === 'GET') {
      return json({ state: this.state, version: this.version });
    }
    if (route === 'table' && request.method === 'POST') {
      const made = this.answerMessages(body);
      if (made) {
        return json({ messages: made, patch: {}, version: this.version });
      }
      const patch = this.answer(body);
      Object.assign(this.state, patch);
      this.version += 1;
      return json({ messages: [{ type: 'patch', patch, version: this.version }], patch, version: this.version });
    }
    const other = this.answerRoute(route, body);
    if (other) {
      return json(other.json, other.status ?? 200);
    }
    return json({ message: `no route ${route}` }, 404);
  };

  settings(): ServerConnection.ISettings {
    return ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      wsUrl: 'ws://localhost:8888/',
      token: 'secret',
      appendToken: true,
      fetch: this.fetch as any,
      WebSocket: FakeSocket as any
    });
  }
}

/** Waits until pending promises and timers of 0 ms have run. */
export function settle(): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, 0));
}
