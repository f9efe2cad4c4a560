/**
 * The server API of jupyter_exp (/work/api-contract.md, served by jupyter_exp/server/):
 * typed answers and one request function over ServerConnection, which adds the token
 * and the XSRF header that cookie-authenticated POSTs need.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export const API_ROOT = 'jupyter-exp';

export interface IProjectInfo {
  project: string;
  name: string;
}

export interface ITableAnswer {
  state: Record<string, any>;
  version: number;
}

/** POST table's answer: the versioned messages the table message made (`table-diff`, `patch`, as the socket sends them). */
export interface IPatchAnswer {
  messages?: any[];
  /** The non-table state keys that changed (also in `messages`). */
  patch: Record<string, any>;
  version: number;
  ok?: boolean;
  error?: string | null;
}

export interface IStatus {
  running: number;
  queued: number;
  failed: number;
  workers: number;
}

export interface IParam {
  name: string;
  value: any;
  type: 'int' | 'float' | 'bool' | 'str' | 'list' | 'dict' | 'null' | string;
}

export interface IParamsAnswer {
  files: { path: string; params: IParam[] }[];
}

export interface IRunRequest {
  set_params: string[];
  name: string | null;
  message: string | null;
  queue: boolean;
  jobs: number;
  targets: string[];
}

export interface IQueueEntry {
  id: string;
  name: string;
  state: string;
  params: Record<string, any>;
  created: string;
  log: boolean;
  /** Where it runs or ran when not in a local worker (`dask tcp://…`, another host). */
  where?: string | null;
}

export interface IQueueAnswer {
  entries: IQueueEntry[];
  workers: { pid: number; jobs: number }[];
}

export interface ILogAnswer {
  text: string;
  offset: number;
  done: boolean;
  /** The log began anew (a retried entry): `text` starts at byte 0. */
  reset?: boolean;
}

/** A failed request: the server's one-line message and the HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

/** The URL of a route, with the project and other query parameters. */
export function routeUrl(
  settings: ServerConnection.ISettings,
  route: string,
  query: Record<string, string | number>
): string {
  const base = URLExt.join(settings.baseUrl, API_ROOT, route);
  return base + URLExt.objectToQueryString(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])));
}

/** GET (no body) or POST (a JSON body) a route; resolves to the JSON answer. */
export async function requestAPI<T>(
  settings: ServerConnection.ISettings,
  route: string,
  query: Record<string, string | number>,
  body?: unknown
): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { method: 'GET' }
      : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } };
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(routeUrl(settings, route, query), init, settings);
  } catch (error) {
    throw new ApiError(`The Jupyter server did not answer: ${error}`, 0);
  }
  const text = await response.text();
  let data: any = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text.split('\n')[0] };
    }
  }
  if (!response.ok) {
    const hint =
      response.status === 404 && !data.message
        ? 'the jupyter_exp server extension is not enabled (jupyter server extension enable jupyter_exp.server)'
        : response.statusText;
    throw new ApiError(data.message || hint || `HTTP ${response.status}`, response.status);
  }
  return data as T;
}

/** The websocket URL of a route (ws:// or wss:// as the page). */
export function socketUrl(settings: ServerConnection.ISettings, route: string, query: Record<string, string>): string {
  const url = URLExt.join(settings.wsUrl, API_ROOT, route) + URLExt.objectToQueryString(query);
  // As JupyterLab's own kernel sockets do: the token goes in the query only when the
  // settings ask for it (a browser sends the cookie on a same-origin socket).
  return settings.appendToken && settings.token ? `${url}&token=${encodeURIComponent(settings.token)}` : url;
}

/** GET plots: DVC's plots (the Plot panel's ids), trends over steps and the project's study plots. */
export interface IPlotsAnswer {
  plots: { id: string; title: string; kind: string }[];
  trends: { id: string; title: string; metrics: string[] }[];
  studies: { id: string; title: string; study: string }[];
  errors: string[];
}

/** A small client bound to one project: every route of the contract. */
export class ProjectApi {
  constructor(
    readonly settings: ServerConnection.ISettings,
    readonly project: string
  ) {}

  private q(extra: Record<string, string | number> = {}): Record<string, string | number> {
    return { project: this.project, ...extra };
  }

  table(): Promise<ITableAnswer> {
    return requestAPI(this.settings, 'table', this.q());
  }
  post(message: unknown): Promise<IPatchAnswer> {
    return requestAPI(this.settings, 'table', this.q(), message);
  }
  status(): Promise<IStatus> {
    return requestAPI(this.settings, 'status', this.q());
  }
  params(): Promise<IParamsAnswer> {
    return requestAPI(this.settings, 'params', this.q());
  }
  plots(): Promise<IPlotsAnswer> {
    return requestAPI(this.settings, 'plots', this.q());
  }
  /** One plot the sidebar chose that the Plot panel does not draw (a trend over steps, a study's). */
  drawPlot(plot: string, revisions: string[], metric: string): Promise<{ specs: any[] }> {
    return requestAPI(this.settings, 'plots', this.q({ plot, revisions: JSON.stringify(revisions), metric }));
  }
  run(request: IRunRequest): Promise<{ queued?: { id: string; name: string }[]; started?: { id: string; name: string }[] }> {
    return requestAPI(this.settings, 'run', this.q(), request);
  }
  queue(): Promise<IQueueAnswer> {
    return requestAPI(this.settings, 'queue', this.q());
  }
  queueOp(op: 'start' | 'stop' | 'kill' | 'retry' | 'remove', body: unknown): Promise<{ message: string }> {
    return requestAPI(this.settings, `queue/${op}`, this.q(), body);
  }
  logs(entry: string, offset: number): Promise<ILogAnswer> {
    return requestAPI(this.settings, 'logs', this.q({ entry, offset }));
  }
  applyPreview(key: string): Promise<{ paths: string[] }> {
    return requestAPI(this.settings, 'apply-preview', this.q({ key }));
  }
  liveUrl(): string {
    return socketUrl(this.settings, 'live', { project: this.project });
  }
}

/** The project containing a directory (relative to the server root). */
export function findProject(settings: ServerConnection.ISettings, path: string): Promise<IProjectInfo> {
  return requestAPI(settings, 'project', { path });
}
