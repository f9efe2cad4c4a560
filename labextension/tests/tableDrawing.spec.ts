/**
 * Issue 16's drawing in the shared table (src/vendor/table.js) over the Lab host's
 * ServerModel: the compare panel, notes and tags edited in place, messages that can be
 * dismissed, downloads, operators by column type, and Vega charts through the host's
 * embed hook (a fake embed stands for vega-embed, which is ES-module only).
 */
import { ProjectApi } from '../src/api';
import { ServerModel } from '../src/serverModel';
import table from '../src/vendor/table.js';
import { FakeServer, FakeSocket, row, settle } from './fakeServer';

async function mount(server: FakeServer, embed?: any): Promise<{ model: ServerModel; el: HTMLElement }> {
  FakeSocket.instances = [];
  const model = new ServerModel(new ProjectApi(server.settings(), 'proj'), { reconnectDelay: [10, 20] });
  await model.ready;
  FakeSocket.instances[0].open();
  const el = document.createElement('div');
  document.body.appendChild(el);
  table.render({ model, el, embed } as any);
  return { model, el };
}

function blobText(blob: Blob): Promise<string> {
  return new Promise(resolve => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.readAsText(blob);
  });
}

const posted = (server: FakeServer) => server.seen.filter(r => r.method === 'POST').map(r => r.body);

async function flush(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle();
  }
}

afterEach(() => {
  document.body.innerHTML = '';
  delete (globalThis as any).jupyterExpVega;
});

function withNotes(server: FakeServer): void {
  const t = server.state.table;
  const note = { id: 'note', label: 'Note', group: 'info', type: 'text', editable: true };
  const tags = { id: 'tags', label: 'Tags', group: 'info', type: 'text', editable: true };
  t.columns = [...t.columns, note, tags];
  t.rows = t.rows.map((r: any, i: number) => ({ ...r, cells: [...r.cells, i ? '-' : 'first try', i ? '-' : 'a, b'], can_note: r.can_note ?? true }));
}

test('a note is edited in place: Enter sends the note message; Escape sends nothing', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  withNotes(server);
  const { model, el } = await mount(server);
  const edit = el.querySelector('tr[data-key="abc1234/e1"] button[data-edit="note"]') as HTMLElement;
  edit.click();
  const input = el.querySelector('.jx-edit-input') as HTMLInputElement;
  expect(input.value).toBe('first try');
  input.value = 'lr too high';
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await flush();
  expect(posted(server)).toEqual([{ type: 'note', key: 'abc1234/e1', text: 'lr too high' }]);
  expect(el.querySelector('.jx-edit-input')).toBeNull();

  (el.querySelector('tr[data-key="abc1234/e2"] button[data-edit="note"]') as HTMLElement).click();
  const again = el.querySelector('.jx-edit-input') as HTMLInputElement;
  expect(again.value).toBe(''); // "-" is no note
  again.value = 'ignored';
  again.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
  await flush();
  expect(posted(server)).toHaveLength(1);
  model.dispose();
});

test('tags are edited as a list: the message names what was added and removed', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  withNotes(server);
  const { model, el } = await mount(server);
  (el.querySelector('button[data-edit="tags"]') as HTMLElement).click();
  const input = el.querySelector('.jx-edit-input') as HTMLInputElement;
  expect(input.value).toBe('a, b');
  input.value = 'b, best';
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await flush();
  expect(posted(server)).toEqual([{ type: 'tag', key: 'abc1234/e1', add: ['best'], remove: ['a'] }]);
  model.dispose();
});

test('a row that cannot be noted, applied or starred shows no button for it; ! explains itself', async () => {
  const server = new FakeServer([
    row('e1', ['!', 0.5], { can_note: false, can_apply: false, can_star: false, state: 'running', errors: { 'params.lr': 'params.yaml: bad YAML' } }),
    row('e2', ['!', 0.7])
  ]);
  withNotes(server);
  server.state.table.columns[3] = { ...server.state.table.columns[3], error: 'params.yaml is missing' };
  const { model, el } = await mount(server);
  const running = el.querySelector('tr[data-key="abc1234/e1"]') as HTMLElement;
  expect(running.querySelector('button[data-edit]')).toBeNull();
  expect(running.querySelector('.jx-apply')).toBeNull();
  expect(running.querySelector('.jx-star')).toBeNull();
  const cells = Array.from(el.querySelectorAll('td.jx-why')) as HTMLElement[];
  expect(cells.map(c => c.title)).toEqual(['params.yaml: bad YAML', 'params.yaml is missing']);
  expect(el.querySelector('tr[data-key="abc1234/e2"] .jx-apply')).not.toBeNull();
  model.dispose();
});

test('a message fades after ~8 s, an old one is not shown, and ✕ sends dismiss', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  Object.assign(server.state, { message: 'Said long ago.', message_kind: 'info', message_time: Date.now() / 1000 - 60 });
  server.answer = () => ({ message: '', message_kind: '', message_time: 0 });
  const { model, el } = await mount(server);
  const box = el.querySelector('.jx-message') as HTMLElement;
  expect(box.hidden).toBe(true); // a re-drawn table does not repeat an old message
  jest.useFakeTimers();
  try {
    FakeSocket.instances[0].push({
      type: 'patch',
      version: server.version + 1,
      patch: { message: 'Applied.', message_kind: 'info', message_time: Date.now() / 1000 }
    });
    expect(box.hidden).toBe(false);
    expect(el.querySelector('.jx-message-text')?.textContent).toBe('Applied.');
    jest.advanceTimersByTime(7000);
    expect(box.hidden).toBe(false);
    jest.advanceTimersByTime(2000);
    expect(box.hidden).toBe(true);
  } finally {
    jest.useRealTimers();
  }
  (el.querySelector('[data-cmd="dismiss"]') as HTMLElement).click();
  await flush();
  expect(posted(server)).toEqual([{ type: 'dismiss' }]);
  model.dispose();
});

test('Export CSV sends export; a new download state saves the file through a link', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  server.answer = () => ({ download: { filename: 'experiments.csv', mime: 'text/csv', text: 'Experiment,lr\ne1,0.1\n' } });
  const urls: Blob[] = [];
  (URL as any).createObjectURL = (blob: Blob) => {
    urls.push(blob);
    return 'blob:fake';
  };
  (URL as any).revokeObjectURL = () => undefined;
  const clicked: HTMLAnchorElement[] = [];
  const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    clicked.push(this);
  });
  const { model, el } = await mount(server);
  expect(clicked).toHaveLength(0); // drawing the table saves nothing
  (el.querySelector('[data-cmd="export"]') as HTMLElement).click();
  await flush();
  expect(posted(server)).toEqual([{ type: 'export', format: 'csv' }]);
  expect(clicked.map(a => a.download)).toEqual(['experiments.csv']);
  expect(await blobText(urls[0])).toBe('Experiment,lr\ne1,0.1\n');
  expect(urls[0].type).toBe('text/csv');
  click.mockRestore();
  model.dispose();
});

test('the operator menu offers what fits the chosen column; chips show the display label; Reset clears', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  Object.assign(server.state.table, {
    operators_by_type: { number: ['=', '<', '>'], text: ['=', 'contains', 'empty'], date: ['before', 'after'] },
    filters: [{ index: 0, column: 'params.lr', label: 'lr', op: '>', value: '0.1', text: 'lr > 0.1', active: true }],
    filter_note: 'Filters choose experiments; the workspace and baseline rows always show.'
  });
  server.state.table.rows[0].filters_skip = true;
  const { model, el } = await mount(server);
  const col = el.querySelector('.jx-f-col') as HTMLSelectElement;
  const ops = () => Array.from((el.querySelector('.jx-f-op') as HTMLSelectElement).options).map(o => o.value);
  expect(col.value).toBe('experiment');
  expect(ops()).toEqual(['=', 'contains', 'empty']);
  col.value = 'params.lr';
  col.dispatchEvent(new Event('change', { bubbles: true }));
  expect(ops()).toEqual(['=', '<', '>']);
  col.value = 'created';
  col.dispatchEvent(new Event('change', { bubbles: true }));
  expect(ops()).toEqual(['before', 'after']);
  expect(el.querySelector('.jx-chip')?.textContent).toBe('lr > 0.1×');
  expect((el.querySelector('.jx-filter-note') as HTMLElement).title).toContain('always show');
  expect(el.querySelector('tr.jx-row')?.classList.contains('jx-skip')).toBe(true);
  (el.querySelector('.jx-f-val') as HTMLInputElement).value = '2026';
  (el.querySelector('[data-cmd="reset"]') as HTMLElement).click();
  await flush();
  expect((el.querySelector('.jx-f-val') as HTMLInputElement).value).toBe('');
  expect(col.value).toBe('experiment');
  expect(posted(server)).toEqual([{ type: 'reset' }]);
  model.dispose();
});

const comparePanel = {
  kind: 'compare',
  title: 'Compare e1, e2 (reference e1)',
  columns: [
    { id: 'name', label: 'Param / metric', kind: 'name' },
    { id: 'abc1234/e1', label: 'e1', kind: 'value', reference: true },
    { id: 'abc1234/e2', label: 'e2', kind: 'value', reference: false },
    { id: 'delta:abc1234/e2', label: 'Δ e2', kind: 'delta', of: 'abc1234/e2' }
  ],
  rows: [
    { id: 'params.lr', group: 'params', file: 'params.yaml', key: 'lr', cells: ['lr', '0.1', '0.2', '0.1'], values: ['lr', 0.1, 0.2, 0.1] },
    { id: 'metrics.loss', group: 'metrics', file: 'metrics.json', key: 'loss', cells: ['loss', '0.5', '0.4', '-0.1'], values: ['loss', 0.5, 0.4, -0.1] }
  ],
  reference: 'abc1234/e1',
  keys: ['abc1234/e1', 'abc1234/e2'],
  html: '<table></table>'
};

test('Compare is offered for two rows or more, and its panel marks and changes the reference', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.4])]);
  server.answer = message => (message.type === 'action' ? { panel: comparePanel } : {});
  const { model, el } = await mount(server);
  const button = el.querySelector('[data-action="compare"]') as HTMLButtonElement;
  (el.querySelectorAll('input.jx-select')[0] as HTMLElement).click();
  expect(button.disabled).toBe(true);
  (el.querySelectorAll('input.jx-select')[1] as HTMLElement).click();
  expect(button.disabled).toBe(false);
  button.click();
  await flush();
  expect(posted(server).pop()).toEqual({ type: 'action', action: 'compare', keys: ['abc1234/e1', 'abc1234/e2'] });
  const panel = el.querySelector('.jx-panel') as HTMLElement;
  expect(panel.hidden).toBe(false);
  const heads = Array.from(panel.querySelectorAll('thead th')).map(th => th.textContent);
  expect(heads).toEqual(['Param / metric', 'e1 reference', 'e2', 'Δ e2']);
  expect(panel.querySelectorAll('th.jx-ref')).toHaveLength(1);
  expect(panel.querySelectorAll('tbody td.jx-ref')).toHaveLength(2);
  expect(panel.querySelector('tbody tr:nth-child(2) td.jx-down')?.textContent).toBe('-0.1');
  const pick = panel.querySelector('select[data-reference]') as HTMLSelectElement;
  expect(Array.from(pick.options).map(o => o.textContent)).toEqual(['e1', 'e2']);
  pick.value = 'abc1234/e2';
  pick.dispatchEvent(new Event('change', { bubbles: true }));
  await flush();
  expect(posted(server).pop()).toEqual({ type: 'action', action: 'compare', keys: comparePanel.keys, arg: 'abc1234/e2' });
  model.dispose();
});

const spec = (title: string) => ({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, data: { values: [{ x: 1, y: 'a,b' }, { x: 2, y: 3 }] }, mark: 'point' });
const vegaPanel = {
  kind: 'vega',
  title: 'Plots of e1, e2',
  specs: [
    { id: 'template:loss.tsv', kind: 'template', title: 'loss.tsv', spec: spec('loss') },
    { id: 'scatter:score vs lr', kind: 'scatter', title: 'score vs lr', spec: spec('score') },
    { id: 'image:img/0.png', kind: 'image', title: 'img/0.png', spec: null, images: [{ rev: 'e1', src: 'data:image/png;base64,AA' }] },
    { id: 'image:img/5.png', kind: 'image', title: 'img/5.png', spec: null, images: [{ rev: 'e1', src: 'data:image/png;base64,BB' }, { rev: 'e2', src: 'data:image/png;base64,CC' }] }
  ],
  html: '<div class="jx-plots"><div class="jx-plot" data-plot="template:loss.tsv"><svg class="static"></svg></div></div>',
  keys: ['abc1234/e1', 'abc1234/e2'],
  x: 'params.lr',
  y: 'metrics.score',
  params: ['params.lr', 'params.epochs'],
  metrics: ['metrics.score', 'metrics.loss']
};

test('the Plot panel draws each spec through the host embed hook, with axes, CSV and an image step slider', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.4])]);
  server.state.panel = vegaPanel;
  const calls: any[] = [];
  const embed = async (target: HTMLElement, s: any, options: any) => {
    calls.push({ target, spec: s, options });
    target.innerHTML = '<svg class="marks"></svg>';
    return { finalize: () => undefined };
  };
  const { model, el } = await mount(server, embed);
  await flush();
  expect(calls.map(c => c.spec.title)).toEqual(['loss', 'score']);
  expect(calls[0].options.actions.export).toBe(true); // vega-embed's menu: PNG and SVG
  expect(el.querySelectorAll('.jx-plot .jx-vega svg.marks')).toHaveLength(2);
  expect(el.querySelector('svg.static')).toBeNull(); // the fallback is not used
  const x = el.querySelector('select[data-axis="x"]') as HTMLSelectElement;
  x.value = 'params.epochs';
  x.dispatchEvent(new Event('change', { bubbles: true }));
  await flush();
  expect(posted(server).pop()).toEqual({ type: 'action', action: 'plot', keys: vegaPanel.keys, arg: ['params.epochs', 'metrics.score'] });

  const slider = el.querySelector('input[data-step-group]') as HTMLInputElement;
  expect(el.querySelector('.jx-plot-images b')?.textContent).toBe('img/#.png');
  expect(Array.from(el.querySelectorAll('.jx-figures figcaption')).map(f => f.textContent)).toEqual(['e1', 'e2']);
  slider.value = '0';
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  expect(el.querySelector('.jx-step')?.textContent).toBe('0');
  expect(Array.from(el.querySelectorAll('.jx-figures img')).map(i => i.getAttribute('src'))).toEqual(['data:image/png;base64,AA']);

  const saved: Blob[] = [];
  (URL as any).createObjectURL = (blob: Blob) => (saved.push(blob), 'blob:fake');
  (URL as any).revokeObjectURL = () => undefined;
  const click = jest.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => undefined);
  (el.querySelector('button[data-csv="template:loss.tsv"]') as HTMLElement).click();
  expect(await blobText(saved[0])).toBe('x,y\n1,"a,b"\n2,3\n');
  click.mockRestore();
  model.dispose();
});

test('without an embed the Plot panel shows the HTML Python drew; a failing embed falls back per chart', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  server.state.panel = vegaPanel;
  const plain = await mount(server);
  await flush();
  expect(plain.el.querySelector('svg.static')).not.toBeNull();
  plain.model.dispose();
  document.body.innerHTML = '';

  (globalThis as any).jupyterExpVega = { embed: async () => Promise.reject(new Error('no canvas')) };
  const failing = await mount(server);
  await flush();
  const first = failing.el.querySelector('[data-plot="template:loss.tsv"] .jx-vega') as HTMLElement;
  expect(first.querySelector('svg.static')).not.toBeNull();
  expect(first.textContent).toContain('Vega: no canvas');
  failing.model.dispose();
});

test('Note… in the actions bar writes the first note of a table that has no Note column', async () => {
  const server = new FakeServer([row('e1', [0.1, 0.5], { can_note: true }), row('e2', [0.2, 0.4], { can_note: false })]);
  const { model, el } = await mount(server);
  const button = el.querySelector('[data-annotate="note"]') as HTMLButtonElement;
  expect(button.disabled).toBe(true);
  (el.querySelectorAll('input.jx-select')[1] as HTMLElement).click();
  expect(button.disabled).toBe(true); // e2 cannot be noted (a running or failed row)
  (el.querySelectorAll('input.jx-select')[0] as HTMLElement).click();
  (el.querySelectorAll('input.jx-select')[1] as HTMLElement).click();
  expect(button.disabled).toBe(false);
  button.click();
  const input = el.querySelector('.jx-annotate .jx-edit-input') as HTMLInputElement;
  expect(input.value).toBe('');
  input.value = 'baseline for the sweep';
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  await flush();
  expect(posted(server).filter(m => m.type !== 'select')).toEqual([{ type: 'note', key: 'abc1234/e1', text: 'baseline for the sweep' }]);
  expect((el.querySelector('.jx-annotate') as HTMLElement).hidden).toBe(true);
  model.dispose();
});
