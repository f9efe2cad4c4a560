/**
 * The sidebar's plot selection over the Lab host: which plots the shared table's Plot
 * panel draws (hidden ones dropped, custom metric-vs-param plots added), kept per
 * project, with the real table.js drawing through a fake embed hook.
 */
import { ProjectApi } from '../src/api';
import { customSpec, PlotSelection, selectPlots } from '../src/plotSelection';
import { PlotsView } from '../src/plotsView';
import { ProjectSession } from '../src/workbench';
import table from '../src/vendor/table.js';
import { FakeServer, FakeSocket, row, settle } from './fakeServer';

class MemoryStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

const PANEL = {
  kind: 'vega',
  title: 'Plots of 2 experiments',
  keys: ['abc1234/e1', 'abc1234/e2'],
  specs: [
    { id: 'template:loss.csv', kind: 'template', title: 'loss.csv', spec: { mark: 'line' } },
    { id: 'scatter:score vs lr', kind: 'scatter', title: 'score vs lr', spec: { mark: 'point' } },
    { id: 'parallel:all', kind: 'parallel', title: 'all', spec: { mark: 'line' } }
  ],
  html: '',
  x: 'params.lr',
  y: 'metrics.score',
  params: ['params.lr'],
  metrics: ['metrics.score']
};

afterEach(() => {
  document.body.innerHTML = '';
});

test('a selection hides plots by id or kind, adds custom plots, and is kept per project', () => {
  const store = new MemoryStore();
  const selection = new PlotSelection('proj', store);
  const t = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7]), row('e3', [0.3, 0.9])]).state.table;
  expect(selectPlots(PANEL, selection, t, {}).specs.map((s: any) => s.id)).toEqual(PANEL.specs.map(s => s.id));
  selection.setShown('template:loss.csv', false);
  selection.setShown('parallel', false);
  selection.addCustom({ metric: 'metrics.score', param: 'params.lr' });
  const shown = selectPlots(PANEL, selection, t, { e1: '#4e79a7', e2: '#f28e2b' });
  expect(shown.specs.map((s: any) => s.id)).toEqual(['scatter:score vs lr', 'custom:metrics.score|params.lr']);
  const custom = shown.specs[1].spec;
  expect(custom.data.values).toEqual([
    { experiment: 'e1', x: 0.1, y: 0.5 },
    { experiment: 'e2', x: 0.2, y: 0.7 }
  ]); // the panel's rows only
  expect(custom.encoding.color.scale).toEqual({ domain: ['e1', 'e2'], range: ['#4e79a7', '#f28e2b'] });
  // Another page of the same project reads the same choice; another project its own.
  const again = new PlotSelection('proj', store);
  expect(again.isShown('parallel')).toBe(false);
  expect(again.custom).toEqual([{ metric: 'metrics.score', param: 'params.lr' }]);
  expect(new PlotSelection('other', store).isShown('parallel')).toBe(true);
  // A column the table does not show: no custom plot rather than an empty one.
  expect(customSpec({ metric: 'metrics.gone', param: 'params.lr' }, PANEL, t, {})).toBeNull();
  // Other panels pass as they are.
  const compare = { kind: 'compare', columns: [] };
  expect(selectPlots(compare, selection, t, {})).toBe(compare);
});

test('the sidebar section chooses what the tab draws, and the table redraws its Plot panel', async () => {
  localStorage.clear();
  FakeSocket.instances = [];
  const server = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]);
  server.state.panel = PANEL;
  const fetch = server.fetch;
  server.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input instanceof Request ? input.url : input).includes('/jupyter-exp/plots')) {
      return new Response(JSON.stringify({ plots: [{ id: 'template:loss.csv', title: 'loss.csv', kind: 'vega' }], errors: [] }));
    }
    return fetch(input, init);
  }) as any;
  const settings = server.settings();
  const session = new ProjectSession({ project: 'proj', name: 'proj' }, settings, () => () => Promise.resolve(true));
  await session.model.ready;
  FakeSocket.instances[0].open();
  const drawn: string[][] = [];
  const embed = async (target: HTMLElement, spec: any) => {
    target.innerHTML = `<svg class="marks" data-title="${spec.title ?? ''}"></svg>`;
    return { finalize: () => undefined };
  };
  const el = document.createElement('div');
  document.body.appendChild(el);
  table.render({ model: session.model, el, embed } as any);
  const plotIds = () => Array.from(el.querySelectorAll('.jx-plot')).map(p => (p as HTMLElement).dataset.plot as string);
  drawn.push(plotIds());
  expect(drawn[0]).toEqual(['template:loss.csv', 'scatter:score vs lr', 'parallel:all']);

  const view = new PlotsView();
  document.body.appendChild(view.node);
  view.follow(session);
  await settle();
  await settle();
  const box = (id: string) => view.node.querySelector(`input[data-plot="${id}"]`) as HTMLInputElement;
  expect(box('template:loss.csv').checked).toBe(true);
  box('template:loss.csv').click();
  box('parallel').click();
  expect(plotIds()).toEqual(['scatter:score vs lr']);
  // A custom plot from the shown columns: metric vs param.
  (view.node.querySelector('select.jp-ExperimentsPlots-metric') as HTMLSelectElement).value = 'metrics.score';
  (view.node.querySelector('select.jp-ExperimentsPlots-param') as HTMLSelectElement).value = 'params.lr';
  (view.node.querySelector('[data-cmd="add-plot"]') as HTMLElement).click();
  expect(plotIds()).toEqual(['scatter:score vs lr', 'custom:metrics.score|params.lr']);
  await settle();
  expect(el.querySelector('.jx-plot-custom svg.marks')?.getAttribute('data-title')).toBe('score vs lr');
  // Removing it, and showing DVC's plot again.
  (view.node.querySelector('.jp-ExperimentsPlots-remove') as HTMLElement).click();
  box('template:loss.csv').click();
  expect(plotIds()).toEqual(['template:loss.csv', 'scatter:score vs lr']);
  expect(session.model.get('panel')).toBe(session.model.get('panel')); // one object until something changes
  // The trend over commits shows the panel's y; choosing a metric there asks for the plot with it.
  const overCommits = view.node.querySelector('select[data-trend="commits"]') as HTMLSelectElement;
  expect(overCommits.value).toBe('metrics.score');
  overCommits.dispatchEvent(new Event('change', { bubbles: true }));
  await settle();
  const posted = server.seen.filter(r => r.route === 'table' && r.method === 'POST').map(r => r.body);
  expect(posted[posted.length - 1]).toEqual({ type: 'action', action: 'plot', keys: PANEL.keys, arg: ['params.lr', 'metrics.score'] });
  session.dispose();
});

test('the model view keeps the panel object while only the table changes (a live update)', async () => {
  FakeSocket.instances = [];
  const server = new FakeServer([row('e1', [0.1, 0.5])]);
  server.state.panel = PANEL;
  const session = new ProjectSession({ project: 'p2', name: 'p2' }, server.settings(), () => () => Promise.resolve(true));
  await session.model.ready;
  FakeSocket.instances[0].open();
  const before = session.model.get('panel');
  session.model.receive({ type: 'table-diff', version: server.version + 1, rows: [row('e1', [0.1, 0.6])], order: null, table: {} });
  expect(session.model.get('panel')).toBe(before);
  expect(session.model.api).toBeInstanceOf(ProjectApi);
  session.dispose();
});

test('plots drawn on request (study plots, trends over steps) show once chosen, asked for once per rows and metric', async () => {
  const store = new MemoryStore();
  const selection = new PlotSelection('proj', store);
  const asked: any[] = [];
  selection.drawer = async (id, revisions, metric) => {
    asked.push([id, revisions, metric]);
    if (id === 'study:gone:history') {
      throw new Error("No study named 'gone'");
    }
    return { specs: [{ id, kind: id.startsWith('study:') ? 'study' : 'trend', title: id, spec: { mark: 'line' } }] };
  };
  const t = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7], { rev: 'beef123' })]).state.table;
  const ids = () => selectPlots(PANEL, selection, t, {}).specs.map((s: any) => s.id);
  const panelIds = PANEL.specs.map(s => s.id);
  expect(selection.isShown('study:sp:history')).toBe(false); // not drawn until chosen
  expect(ids()).toEqual(panelIds);
  let changes = 0;
  selection.changed.connect(() => (changes += 1));
  selection.setShown('study:sp:history', true);
  selection.setShown('trend:steps', true);
  selection.trendMetric = 'loss';
  expect(ids()).toEqual(panelIds); // asked for; drawn when the answers come
  await settle();
  expect(ids()).toEqual([...panelIds, 'study:sp:history', 'trend:steps']);
  expect(asked).toEqual([
    ['study:sp:history', [], ''],
    ['trend:steps', ['e1=f00ba12', 'e2=beef123'], 'loss']
  ]);
  expect(changes).toBe(5); // three choices, two answers
  ids();
  await settle();
  expect(asked.length).toBe(2); // drawn once for these rows and this metric
  selection.trendMetric = '';
  ids();
  await settle();
  expect(asked[2]).toEqual(['trend:steps', ['e1=f00ba12', 'e2=beef123'], '']);
  // A plot that cannot be drawn says why, in the panel.
  selection.setShown('study:gone:history', true);
  ids();
  await settle();
  const gone = selectPlots(PANEL, selection, t, {}).specs.find((s: any) => s.id === 'study:gone:history');
  expect(gone).toEqual({ id: 'study:gone:history', kind: 'error', title: 'study:gone:history', message: "No study named 'gone'" });
  // Kept per project, like the rest of the selection; unchosen, gone from the panel.
  const again = new PlotSelection('proj', store);
  expect(again.isShown('trend:steps') && again.isShown('study:sp:history')).toBe(true);
  expect(again.trendMetric).toBe('');
  selection.setShown('study:sp:history', false);
  expect(ids()).not.toContain('study:sp:history');
});

test("the panel's own trends and study plots show as the sidebar chooses, never twice", async () => {
  const selection = new PlotSelection('own', new MemoryStore());
  const drawn: string[] = [];
  selection.drawer = async id => {
    drawn.push(id);
    return { specs: [{ id: 'study:st:history', kind: 'study', title: 'from the server', spec: { mark: 'point' } }] };
  };
  const panel = {
    ...PANEL,
    specs: [
      ...PANEL.specs,
      { id: 'trend:dvclive/plots/metrics/acc.tsv', kind: 'trend', title: 'acc', spec: { mark: 'line' } },
      { id: 'study:st:history', kind: 'study', title: 'history', spec: { mark: 'point' } }
    ]
  };
  const t = new FakeServer([row('e1', [0.1, 0.5]), row('e2', [0.2, 0.7])]).state.table;
  const shown = () => selectPlots(panel, selection, t, {}).specs;
  expect(shown().map((s: any) => s.id)).toEqual(PANEL.specs.map(s => s.id)); // off until chosen
  selection.setShown('trend:steps', true);
  selection.setShown('study:st:history', true);
  shown();
  await settle();
  const ids = shown().map((s: any) => s.id);
  expect(ids.filter((id: string) => id === 'study:st:history').length).toBe(1); // the panel's, not a second
  expect(shown().find((s: any) => s.id === 'study:st:history').title).toBe('history');
  expect(ids).toContain('trend:dvclive/plots/metrics/acc.tsv');
});
