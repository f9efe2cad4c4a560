/**
 * The Lab panel's host for the shared table: ServerModel over a fake network edge,
 * with the real jupyter_exp/widgets/table.js drawing under jsdom.
 */
import { ProjectApi } from '../src/api';
import { ServerModel } from '../src/serverModel';
import table from '../src/vendor/table.js';
import { FakeServer, FakeSocket, row, settle } from './fakeServer';

async function mount(server: FakeServer): Promise<{ model: ServerModel; el: HTMLElement; socket: FakeSocket }> {
  FakeSocket.instances = [];
  const model = new ServerModel(new ProjectApi(server.settings(), 'proj'), { reconnectDelay: [10, 20], gapWait: 20 });
  await model.ready;
  const socket = FakeSocket.instances[0];
  socket.open();
  const el = document.createElement('div');
  document.body.appendChild(el);
  table.render({ model, el });
  return { model, el, socket };
}

function names(el: HTMLElement): string[] {
  return Array.from(el.querySelectorAll('tbody tr.jx-row td.jx-name')).map(td => (td.firstChild?.nextSibling?.textContent ?? '').trim());
}

afterEach(() => {
  document.body.innerHTML = '';
});

test('the table draws the GET table state and says it is the lab host', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  const { model, el, socket } = await mount(server);
  expect(server.seen[0]).toMatchObject({ method: 'GET', route: 'table' });
  expect(server.seen[0].query.get('project')).toBe('proj');
  expect(socket.url).toBe('ws://localhost:8888/jupyter-exp/live?project=proj&token=secret');
  expect(model.get('host')).toBe('lab');
  expect(el.classList.contains('jx-host-lab')).toBe(true);
  expect(names(el)).toEqual(['e1', 'e2']);
  expect(el.querySelector('.jx-counts')?.textContent).toContain('2 experiments');
  expect(el.querySelector('[data-lab="run"]')).not.toBeNull(); // the lab-only buttons
  model.dispose();
});

test('a header click POSTs a sort message, and the answer redraws the table', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  server.answer = message => {
    const rows = [...server.state.table.rows].reverse();
    return { prefs: { ...server.state.prefs, sort: [[message.column, 'desc']] }, table: { ...server.state.table, rows } };
  };
  const { model, el } = await mount(server);
  (el.querySelector('th[data-sort="metrics.score"]') as HTMLElement).click();
  await settle();
  await settle();
  const post = server.seen.find(r => r.method === 'POST');
  expect(post).toMatchObject({ route: 'table', body: { type: 'sort', column: 'metrics.score', add: false } });
  expect(names(el)).toEqual(['e2', 'e1']);
  expect(el.querySelector('th[data-sort="metrics.score"]')?.textContent).toContain('▼');
  model.dispose();
});

test('a table-diff from the live socket updates one row in place', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7], { state: 'running' })]);
  const { model, el, socket } = await mount(server);
  const changed = row('e2', [0.2, 0.9], {
    state: 'running',
    progress: { step: 3, total: 10, metrics: { loss: 0.25 }, elapsed: 12 }
  });
  socket.push({ type: 'table-diff', version: server.version + 1, rows: [changed], order: null, table: {} });
  const tr = el.querySelector('tr[data-key="abc1234/e2"]') as HTMLElement;
  expect(tr.textContent).toContain('0.9');
  expect(tr.textContent).toContain('step 3 of 10');
  expect(tr.querySelector('.jx-bar div')?.getAttribute('style')).toContain('width:30%');
  expect(names(el)).toEqual(['e1', 'e2']);
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(1); // no re-read needed
  model.dispose();
});

test('a table-diff with a new order adds and drops rows', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  const { model, el, socket } = await mount(server);
  socket.push({
    type: 'table-diff',
    version: server.version + 1,
    rows: [row('e3', [0.3, 0.8], { state: 'queued' })],
    order: ['abc1234/e3', 'abc1234/e1'],
    table: { counts: { experiments: 2, shown: 2, queued: 1, success: 1 } }
  });
  expect(names(el)).toEqual(['e3', 'e1']);
  expect(el.querySelector('.jx-counts')?.textContent).toContain('1 queued');
  model.dispose();
});

test('a version gap re-reads the whole table; an old version is ignored', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  const { model, el, socket } = await mount(server);
  const before = server.version;
  socket.push({ type: 'patch', version: before, patch: { message: 'stale' } });
  expect(el.querySelector('.jx-message-text')?.textContent).toBe('');
  server.state.table = { ...server.state.table, rows: [row('e1', [0.1, 0.5]), row('e9', [0.9, 0.1])] };
  server.version = before + 5;
  socket.push({ type: 'patch', version: before + 5, patch: { message: 'later' } });
  await settle();
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(1); // the socket may still fill the gap
  await new Promise(resolve => setTimeout(resolve, 40));
  await settle();
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(2);
  expect(model.version).toBe(before + 5);
  expect(names(el)).toEqual(['e1', 'e9']);
  model.dispose();
});

test('a POST is answered with a table-diff (remap, order edit) applied once, though the socket brings it too', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7]), row('e3', [0.3, 0.9])]);
  const { model, el, socket } = await mount(server);
  const v = server.version;
  // Hiding "lr" (column 3): every row's cells lose it; e3 moves to the top.
  const columns = server.state.table.columns.filter((c: any) => c.id !== 'params.lr');
  const diff = {
    type: 'table-diff',
    version: v + 1,
    rows: [],
    order: null,
    order_edit: { removed: [], moves: [['abc1234/e3', null]] },
    remap: { index: [0, 1, 2, 4], fill: '-' },
    table: { columns }
  };
  server.answerMessages = () => [diff, { type: 'patch', version: v + 2, patch: { message: 'Hid lr.' } }];
  server.version = v + 2;
  await model.request({ type: 'hide', column: 'params.lr' });
  expect(names(el)).toEqual(['e3', 'e1', 'e2']);
  expect(model.get('table').rows.map((r: any) => r.cells)).toEqual([
    ['e3', 'success', '2026-11-27', 0.9],
    ['e1', 'success', '2026-11-27', 0.5],
    ['e2', 'success', '2026-11-27', 0.7]
  ]);
  expect(el.querySelector('th[data-sort="params.lr"]')).toBeNull();
  expect(model.version).toBe(v + 2);
  socket.push(diff); // the same change over the socket: already applied
  expect(model.get('table').rows.map((r: any) => r.cells[3])).toEqual([0.9, 0.5, 0.7]);
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(1);
  model.dispose();
});

test('an answer that overtakes a push waits for it instead of re-reading the table', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  const { model, el, socket } = await mount(server);
  const v = server.version;
  server.answerMessages = () => [{ type: 'patch', version: v + 2, patch: { message: 'Starred.' } }];
  server.version = v + 2;
  await model.request({ type: 'star', key: 'abc1234/e1' });
  expect(model.version).toBe(v); // held: v + 1 has not come
  socket.push({ type: 'table-diff', version: v + 1, rows: [row('e1', [0.1, 0.5], { starred: true })], order: null, table: {} });
  expect(model.version).toBe(v + 2);
  expect(el.querySelector('.jx-message-text')?.textContent).toBe('Starred.');
  expect(model.get('table').rows[0].starred).toBe(true);
  await new Promise(resolve => setTimeout(resolve, 40));
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(1);
  model.dispose();
});

test('the socket reconnects after a close and re-reads what it missed', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  const { model, socket } = await mount(server);
  socket.close();
  await new Promise(resolve => setTimeout(resolve, 30));
  expect(FakeSocket.instances).toHaveLength(2);
  FakeSocket.instances[1].open();
  await settle();
  expect(server.seen.filter(r => r.method === 'GET')).toHaveLength(2);
  model.dispose();
});

test('checking a row saves the selection as a select message', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  const { model, el } = await mount(server);
  (el.querySelector('tr[data-key="abc1234/e2"] input.jx-select') as HTMLElement).click();
  await settle();
  expect(server.seen.find(r => r.method === 'POST')?.body).toEqual({ type: 'select', keys: ['abc1234/e2'] });
  model.dispose();
});

test('a refused request shows the server message in the table', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  const { model, el } = await mount(server);
  server.fetch = (async () =>
    new Response(JSON.stringify({ message: 'Forbidden: run needs execute.' }), { status: 403 })) as any;
  (model.api.settings as any).fetch = server.fetch;
  await model.request({ type: 'queue', op: 'start', jobs: 1 });
  expect(el.querySelector('.jx-message-text')?.textContent).toBe('Forbidden: run needs execute.');
  expect(el.querySelector('.jx-message')?.className).toContain('jx-error');
  model.dispose();
});

test('10,000 rows: only a window of <tr> is drawn, and scrolling moves it', async () => {
  const rows = Array.from({ length: 10000 }, (_, i) => row(`exp-${i}`, [i / 10000, i]));
  const server = new FakeServer(rows);
  const start = Date.now();
  const { model, el } = await mount(server);
  const drawMs = Date.now() - start;
  const drawn = el.querySelectorAll('tbody tr.jx-row');
  expect(drawn.length).toBeGreaterThan(20);
  expect(drawn.length).toBeLessThan(120);
  expect(names(el)[0]).toBe('exp-0');
  const spacers = el.querySelectorAll('tbody tr.jx-spacer td');
  expect(spacers).toHaveLength(2); // above (empty at the top) and below
  expect((spacers[0] as HTMLElement).style.height).toBe('0px');
  const below = parseInt((spacers[1] as HTMLElement).style.height, 10);
  expect(below).toBe((10000 - drawn.length) * 24);
  expect(drawMs).toBeLessThan(2000);
  expect(el.querySelector('table.jx-table')?.classList.contains('jx-fixed')).toBe(true); // fixed widths
  expect(el.querySelectorAll('colgroup col')).toHaveLength(3 + 5);

  const scroller = el.querySelector('.jx-scroll') as HTMLElement;
  const scrollTo = async (top: number) => {
    Object.defineProperty(scroller, 'scrollTop', { value: top, configurable: true });
    scroller.dispatchEvent(new Event('scroll'));
    await new Promise(resolve => setTimeout(resolve, 50));
  };
  // A few rows down, within the rows drawn beyond the view: nothing in the DOM changes.
  const kept = el.querySelector('tr[data-key="abc1234/exp-30"]');
  const before = Array.from(el.querySelectorAll('tbody tr'));
  await scrollTo(24 * 5);
  expect(Array.from(el.querySelectorAll('tbody tr'))).toEqual(before);
  // Near the window's edge it moves; the rows still in view are
  // the same elements (moved, not redrawn).
  await scrollTo(24 * 20);
  expect(el.querySelector('tr[data-key="abc1234/exp-30"]')).toBe(kept);
  expect(names(el)[0]).toBe('exp-8');
  expect((el.querySelector('tbody tr.jx-spacer td') as HTMLElement).style.height).toBe(`${8 * 24}px`);
  // A jump draws the window there.
  await scrollTo(24 * 5000);
  const shown = names(el);
  expect(shown).toContain('exp-5000');
  expect(shown).not.toContain('exp-0');
  expect(el.querySelectorAll('tbody tr.jx-row').length).toBeLessThan(120);
  expect(el.querySelectorAll('tbody tr.jx-spacer')).toHaveLength(2);

  // Selection and stars still work on drawn rows of a big table.
  (el.querySelector('tr[data-key="abc1234/exp-5000"] button.jx-star') as HTMLElement).click();
  await settle();
  expect(server.seen.find(r => r.method === 'POST')?.body).toEqual({ type: 'star', key: 'abc1234/exp-5000' });
  model.dispose();
});
