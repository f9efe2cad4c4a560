/** The run form: typed fields from GET params become -S overrides; sweeps only when queueing. */
import { checkValue, RunForm } from '../src/runForm';

const PARAMS = {
  files: [
    {
      path: 'params.yaml',
      params: [
        { name: 'train.lr', value: 0.01, type: 'float' },
        { name: 'train.epochs', value: 3, type: 'int' },
        { name: 'train.shuffle', value: true, type: 'bool' }
      ]
    },
    { path: 'conf/model.toml', params: [{ name: 'act', value: 'relu', type: 'str' }] }
  ]
};

function field(form: RunForm, name: string): HTMLInputElement {
  return form.node.querySelector(`[data-name="${name}"]`) as HTMLInputElement;
}

function named(form: RunForm, name: string): HTMLInputElement {
  return form.node.querySelector(`[name="${name}"]`) as HTMLInputElement;
}

test('only changed fields become overrides, other files prefixed', () => {
  const form = new RunForm(PARAMS, false);
  field(form, 'train.lr').value = '0.1';
  field(form, 'act').value = 'tanh';
  named(form, 'overrides').value = '+train.extra=1\n\n';
  named(form, 'name').value = 'try-1';
  named(form, 'jobs').value = '2';
  named(form, 'targets').value = 'train  eval';
  expect(form.request()).toEqual({
    set_params: ['train.lr=0.1', 'conf/model.toml:act=tanh', '+train.extra=1'],
    name: 'try-1',
    message: null,
    queue: false,
    jobs: 2,
    targets: ['train', 'eval']
  });
});

test('a sweep queues; running refuses it, and wrong types say which field', () => {
  const queue = new RunForm(PARAMS, true);
  field(queue, 'train.lr').value = '0.1,0.2';
  field(queue, 'train.epochs').value = 'range(1,4)';
  expect(queue.request().set_params).toEqual(['train.lr=0.1,0.2', 'train.epochs=range(1,4)']);
  const run = new RunForm(PARAMS, false);
  field(run, 'train.lr').value = '0.1,0.2';
  expect(() => run.request()).toThrow('train.lr: a sweep (0.1,0.2) only queues experiments; use Queue experiments…');
  expect(checkValue({ name: 'train.epochs', value: 3, type: 'int' }, '2.5', true)).toBe(
    "train.epochs takes whole numbers, not '2.5'."
  );
  expect(checkValue({ name: 'train.shuffle', value: true, type: 'bool' }, 'true,false', true)).toBeNull();
});

test('a form made again keeps what was typed', () => {
  const form = new RunForm(PARAMS, true);
  field(form, 'train.lr').value = '0.5,0.6';
  named(form, 'name').value = 'sweep';
  const again = new RunForm(PARAMS, true, form.snapshot());
  expect(field(again, 'train.lr').value).toBe('0.5,0.6');
  expect(named(again, 'name').value).toBe('sweep');
});
