/**
 * Issue 19's search studies in the shared table (src/vendor/table.js) over the Lab
 * host's ServerModel: one line per study above the rows, the best trial's row marked,
 * and a click on a line sends the `study` message (the controller toggles the filter).
 */
import { ProjectApi } from '../src/api';
import { ServerModel } from '../src/serverModel';
import table from '../src/vendor/table.js';
import { FakeServer, FakeSocket, row, settle } from './fakeServer';

afterEach(() => {
  document.body.innerHTML = '';
});

test('each study has a line above the rows; its best row is marked; a click asks for its trials', async () => {
  const server = new FakeServer([row('st-1', [0.1, 0.5]), row('st-2', [0.2, 0.9]), row('by-hand', [0.3, 0.4])]);
  server.state.table.studies = [
    { name: 'st', line: '2 / 4 trials, 1 running, best 0.9 (st-2)', best_key: 'abc1234/st-2', filtered: false },
    { name: 'other <b>', line: '0 / 3 trials, 0 running, no best yet', best_key: null, filtered: true }
  ];
  FakeSocket.instances = [];
  const model = new ServerModel(new ProjectApi(server.settings(), 'proj'), { reconnectDelay: [10, 20] });
  await model.ready;
  FakeSocket.instances[0].open();
  const el = document.createElement('div');
  document.body.appendChild(el);
  table.render({ model, el } as any);

  const lines = Array.from(el.querySelectorAll('.jx-studies button.jx-study')) as HTMLElement[];
  expect(lines.map(b => b.textContent)).toEqual([
    'Study st: 2 / 4 trials, 1 running, best 0.9 (st-2)',
    'Study other <b>: 0 / 3 trials, 0 running, no best yet'
  ]);
  expect(lines.map(b => b.classList.contains('jx-study-on'))).toEqual([false, true]);
  // Above the rows, not among them.
  expect(el.querySelector('.jx-studies')?.nextElementSibling?.classList.contains('jx-scroll')).toBe(true);
  const best = Array.from(el.querySelectorAll('tr.jx-best')).map(tr => (tr as HTMLElement).dataset.key);
  expect(best).toEqual(['abc1234/st-2']);

  lines[0].click();
  for (let i = 0; i < 4; i++) {
    await settle();
  }
  expect(server.seen.filter(r => r.method === 'POST').map(r => r.body)).toEqual([{ type: 'study', name: 'st' }]);

  // A trial completes: the server's diff carries the new line and best row, rows unchanged.
  const studies = [{ name: 'st', line: '3 / 4 trials, 0 running, best 0.95 (st-1)', best_key: 'abc1234/st-1', filtered: true }];
  FakeSocket.instances[0].push({ type: 'table-diff', version: server.version + 1, rows: [], order: null, table: { studies } });
  await settle();
  expect(Array.from(el.querySelectorAll('.jx-study')).map(b => b.textContent)).toEqual([
    'Study st: 3 / 4 trials, 0 running, best 0.95 (st-1)'
  ]);
  expect(Array.from(el.querySelectorAll('tr.jx-best')).map(tr => (tr as HTMLElement).dataset.key)).toEqual(['abc1234/st-1']);
  model.dispose();
});
