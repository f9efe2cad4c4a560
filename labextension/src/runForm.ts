/**
 * "Run experiment with params…" and "Queue experiments…": a form built from the
 * project's params files (GET params), one field per param (typed: a number, a
 * true/false choice or text; any field takes a sweep such as `0.1,0.2` or
 * `range(1,4)` when queueing), free `-S` overrides, -n name, -m message, targets and
 * -j. runCommand.ts shows it and POSTs run.
 */
import { Widget } from '@lumino/widgets';
import { IParam, IParamsAnswer, IRunRequest } from './api';

const DEFAULT_PARAMS = 'params.yaml';

/** The literal a param's field starts with (its value as the -S grammar reads it). */
export function literal(value: any): string {
  if (value === null || value === undefined) {
    return 'null';
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** Is `text` a value (or a sweep of values) the param's type accepts? An error line or null. */
export function checkValue(param: IParam, text: string, queue: boolean): string | null {
  const sweep = /^(range|choice|interval)\(.*\)$/.test(text) || (text.includes(',') && !/^[[{]/.test(text));
  if (sweep && !queue) {
    return `${param.name}: a sweep (${text}) only queues experiments; use Queue experiments…`;
  }
  const values = sweep && !/^\w+\(/.test(text) ? text.split(',').map(v => v.trim()) : [text];
  for (const v of values) {
    if (/^\w+\(/.test(v)) {
      continue;
    }
    if (param.type === 'int' && !/^[-+]?\d+$/.test(v)) {
      return `${param.name} takes whole numbers, not '${v}'.`;
    }
    if (param.type === 'float' && (v === '' || Number.isNaN(Number(v)))) {
      return `${param.name} takes numbers, not '${v}'.`;
    }
    if (param.type === 'bool' && !/^(true|false)$/i.test(v)) {
      return `${param.name} takes true or false, not '${v}'.`;
    }
  }
  return null;
}

/** The form's body: fields per params file, then the run options. */
export class RunForm extends Widget {
  constructor(
    readonly params: IParamsAnswer,
    readonly queue: boolean,
    previous: Record<string, string> = {}
  ) {
    super();
    this.addClass('jp-ExperimentsRunForm');
    const files = params.files
      .map(
        f => `<fieldset><legend>${esc(f.path)}</legend>${f.params
          .map(p => this._field(f.path, p))
          .join('')}</fieldset>`
      )
      .join('');
    this.node.innerHTML =
      `<div class="jp-ExperimentsRunForm-params">${files || '<p>No params files in this project.</p>'}</div>` +
      `<label><span>More overrides (-S), one a line: <code>train.lr=0.1</code>, <code>+train.new=1</code>${queue ? ', sweeps <code>train.lr=0.1,0.2</code>' : ''}</span>` +
      `<textarea name="overrides" rows="2" spellcheck="false"></textarea></label>` +
      `<div class="jp-ExperimentsRunForm-row"><label>Name (-n) <input name="name" placeholder="a random name"></label>` +
      `<label>Jobs (-j) <input name="jobs" type="number" min="1" max="32" value="1"></label></div>` +
      `<label>Message (-m) <input name="message"></label>` +
      `<label>Targets (stages, space separated) <input name="targets" placeholder="all stages"></label>` +
      '<div class="jp-ExperimentsRunForm-error" role="alert"></div>';
    for (const [key, value] of Object.entries(previous)) {
      const el = this._named(key);
      if (el) {
        el.value = value;
      }
    }
  }

  private _named(key: string): HTMLInputElement | null {
    return Array.from(this.node.querySelectorAll<HTMLInputElement>('[data-param], [name]')).find(
      el => (el.dataset.param ?? el.getAttribute('name')) === key
    ) ?? null;
  }

  /** What the user typed, to fill a new form after the server refused this one. */
  snapshot(): Record<string, string> {
    const values: Record<string, string> = {};
    for (const el of Array.from(this.node.querySelectorAll<HTMLInputElement>('[data-param], [name]'))) {
      values[el.dataset.param ?? el.getAttribute('name') ?? ''] = el.value;
    }
    return values;
  }

  private _field(file: string, p: IParam): string {
    const start = literal(p.value);
    const attrs = `data-param="${esc(`${file}:${p.name}`)}" data-file="${esc(file)}" data-name="${esc(p.name)}" data-type="${esc(p.type)}" data-start="${esc(start)}" aria-label="${esc(p.name)}"`;
    const input =
      p.type === 'bool' && !this.queue
        ? `<select ${attrs}>${['true', 'false']
            .map(v => `<option ${v === start ? 'selected' : ''}>${v}</option>`)
            .join('')}</select>`
        : `<input ${attrs} value="${esc(start)}" ${
            p.type === 'int' || p.type === 'float' ? 'inputmode="decimal"' : ''
          } spellcheck="false">`;
    return `<label class="jp-ExperimentsRunForm-field"><span title="${esc(p.type)}">${esc(p.name)}</span>${input}</label>`;
  }

  /** The request the form describes; throws an Error with one line when a field is wrong. */
  request(): IRunRequest {
    const setParams: string[] = [];
    const fields = this.node.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-param]');
    for (const el of Array.from(fields)) {
      const text = el.value.trim();
      if (text === el.dataset.start) {
        continue;
      }
      const file = el.dataset.file ?? DEFAULT_PARAMS;
      const name = el.dataset.name ?? '';
      const error = checkValue({ name, type: el.dataset.type ?? 'str', value: null }, text, this.queue);
      if (error) {
        throw new Error(error);
      }
      setParams.push(`${file === DEFAULT_PARAMS ? '' : `${file}:`}${name}=${text}`);
    }
    const value = (name: string) =>
      (this.node.querySelector(`[name="${name}"]`) as HTMLInputElement | HTMLTextAreaElement).value.trim();
    for (const line of value('overrides').split('\n')) {
      if (line.trim()) {
        setParams.push(line.trim());
      }
    }
    const jobs = Number(value('jobs') || '1');
    if (!Number.isInteger(jobs) || jobs < 1) {
      throw new Error(`Jobs (-j) takes a whole number of at least 1, not '${value('jobs')}'.`);
    }
    return {
      set_params: setParams,
      name: value('name') || null,
      message: value('message') || null,
      queue: this.queue,
      jobs,
      targets: value('targets').split(/\s+/).filter(Boolean)
    };
  }

  showError(text: string): void {
    (this.node.querySelector('.jp-ExperimentsRunForm-error') as HTMLElement).textContent = text;
  }

  /** The dialog's value: the request, or the error that stops it. */
  getValue(): IRunRequest | Error {
    try {
      return this.request();
    } catch (error) {
      return error as Error;
    }
  }
}

function esc(text: unknown): string {
  return String(text ?? '').replace(
    /[&<>"']/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
}
