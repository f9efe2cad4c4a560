/**
 * The sidebar's Queue section: where Start runs the queue (this machine, a local Dask
 * cluster, a Dask scheduler typed in; shared file system auto/shared/not shared), kept
 * per project in the browser and sent with `jobs` to POST queue/start; the server's
 * one-line refusal shown in the section; an entry that ran on a Dask worker says so.
 */
import { ProjectApi } from '../src/api';
import { QueueView } from '../src/queueView';
import { QueueWhere } from '../src/queueWhere';
import { FakeServer, settle } from './fakeServer';

class MemoryStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

beforeEach(() => {
  localStorage.clear();
  document.body.innerHTML = '';
});

test('the choice makes the request and is kept per project', () => {
  const store = new MemoryStore();
  const where = new QueueWhere('proj', store);
  expect(where.request()).toEqual({ executor: 'local', shared_fs: null });
  where.set({ sharedFs: 'shared' });
  expect(where.request()).toEqual({ executor: 'local', shared_fs: null }); // files apply to Dask only
  where.set({ executor: 'dask' });
  expect(where.request()).toEqual({ executor: 'dask', shared_fs: true });
  where.set({ executor: 'address', sharedFs: 'not-shared' });
  expect(() => where.request()).toThrow("Type the Dask scheduler's address as dask://HOST:PORT");
  where.set({ address: ' dask://10.0.0.5:8786 ' });
  expect(where.request()).toEqual({ executor: 'dask://10.0.0.5:8786', shared_fs: false });
  expect(new QueueWhere('proj', store).where).toEqual({
    executor: 'address',
    address: ' dask://10.0.0.5:8786 ',
    sharedFs: 'not-shared'
  });
  expect(new QueueWhere('other', store).where).toEqual({ executor: 'local', address: '', sharedFs: 'auto' });
  store.setItem('jupyter-exp:queue-where:bad', '{"executor": "spark", "sharedFs": 3}');
  expect(new QueueWhere('bad', store).where).toEqual({ executor: 'local', address: '', sharedFs: 'auto' });
});

function makeView(server: FakeServer, project: string) {
  const session = { project, api: new ProjectApi(server.settings(), project), where: new QueueWhere(project) } as any;
  const refreshed: number[] = [];
  const view = new QueueView({ session, showLog: () => undefined, refreshQueue: async () => (refreshed.push(1), null) });
  document.body.appendChild(view.node);
  view.follow(session);
  const q = <T extends HTMLElement>(part: string) => view.node.querySelector(`.jp-ExperimentsQueue-${part}`) as T;
  const choose = (part: string, value: string) => {
    const input = q<HTMLInputElement | HTMLSelectElement>(part);
    input.value = value;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  };
  const start = async () => {
    (view.node.querySelector('[data-op="start"]') as HTMLButtonElement).click();
    await settle();
    await settle();
  };
  return { view, q, choose, start, refreshed };
}

test('Start sends where the queue runs; a refusal is one line in the section', async () => {
  const server = new FakeServer([]);
  server.answerRoute = (route, body) => {
    if (route !== 'queue/start') {
      return null;
    }
    if (body.executor === 'dask://nohost') {
      return { status: 400, json: { message: '"dask://nohost" is not a Dask scheduler address; type it as dask://HOST:PORT.' } };
    }
    return { json: { message: `Started (${body.executor}).` } };
  };
  const { view, q, choose, start } = makeView(server, 'proj');
  const starts = () => server.seen.filter(s => s.route === 'queue/start').map(s => s.body);
  // This machine by default: the address hidden, the files choice off.
  expect(q<HTMLSelectElement>('executor').value).toBe('local');
  expect(q<HTMLInputElement>('address').hidden).toBe(true);
  expect(q<HTMLSelectElement>('sharedfs').disabled).toBe(true);
  await start();
  expect(starts()).toEqual([{ jobs: 1, executor: 'local', shared_fs: null }]);
  expect(q('message').textContent).toBe('Started (local).');
  // A local Dask cluster, -j 2, not shared.
  choose('executor', 'dask');
  expect(q<HTMLSelectElement>('sharedfs').disabled).toBe(false);
  choose('sharedfs', 'not-shared');
  q<HTMLInputElement>('jobs').value = '2';
  await start();
  expect(starts()[1]).toEqual({ jobs: 2, executor: 'dask', shared_fs: false });
  // A scheduler: nothing is sent until an address is typed.
  choose('executor', 'address');
  expect(q<HTMLInputElement>('address').hidden).toBe(false);
  await start();
  expect(starts()).toHaveLength(2);
  expect(q('message').classList.contains('jp-mod-error')).toBe(true);
  expect(q('message').textContent).toMatch(/^Type the Dask scheduler's address as dask:\/\/HOST:PORT/);
  choose('address', 'dask://nohost');
  await start();
  expect(starts()[2]).toEqual({ jobs: 2, executor: 'dask://nohost', shared_fs: false });
  expect(q('message').textContent).toBe('"dask://nohost" is not a Dask scheduler address; type it as dask://HOST:PORT.');
  expect(q('message').classList.contains('jp-mod-error')).toBe(true);
  choose('address', 'dask://10.0.0.5:8786');
  choose('sharedfs', 'auto');
  await start();
  expect(starts()[3]).toEqual({ jobs: 2, executor: 'dask://10.0.0.5:8786', shared_fs: null });
  expect(q('message').classList.contains('jp-mod-error')).toBe(false);
  view.dispose();
  // Another view of the same project (a reload) shows the choice; another project its own.
  const again = makeView(server, 'proj');
  expect(again.q<HTMLSelectElement>('executor').value).toBe('address');
  expect(again.q<HTMLInputElement>('address').value).toBe('dask://10.0.0.5:8786');
  expect(again.q<HTMLInputElement>('address').hidden).toBe(false);
  again.view.follow({ project: 'p2', api: new ProjectApi(server.settings(), 'p2'), where: new QueueWhere('p2') } as any);
  expect(again.q<HTMLSelectElement>('executor').value).toBe('local');
  expect(again.q<HTMLInputElement>('address').hidden).toBe(true);
});

test('an entry run by a Dask worker says where, as the others say their state', () => {
  const { view } = makeView(new FakeServer([]), 'proj');
  const entry = { params: {}, created: '', log: true };
  view.draw({
    entries: [
      { ...entry, id: 'a', name: 'here', state: 'success', where: null },
      { ...entry, id: 'b', name: 'there', state: 'running', where: 'Dask worker tcp://10.0.0.7:40123' }
    ],
    workers: [{ pid: 7, jobs: 2 }]
  });
  const items = Array.from(view.node.querySelectorAll('.jp-ExperimentsQueue-entry')).map(li =>
    Array.from(li.querySelectorAll('span')).map(s => s.textContent)
  );
  expect(items).toEqual([
    ['●', 'here', 'success'],
    ['◉', 'there', 'running', 'Dask worker tcp://10.0.0.7:40123']
  ]);
});
