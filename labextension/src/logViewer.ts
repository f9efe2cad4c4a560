/**
 * The queue's log viewer: follows one entry's log by polling GET logs with the byte
 * offset the last answer returned, until the server says the log is done.
 */
import { Widget } from '@lumino/widgets';
import { ProjectSession } from './workbench';

const POLL_MS = 1000;
const MAX_CHARS = 400_000; // keep the tail of a very long log

export class LogViewer extends Widget {
  constructor() {
    super();
    this.addClass('jp-ExperimentsLog');
    this.node.innerHTML =
      '<div class="jp-ExperimentsLog-head"><span class="jp-ExperimentsLog-title">Pick an entry\'s Log in the queue.</span>' +
      '<span class="jp-ExperimentsLog-state"></span></div><pre class="jp-ExperimentsLog-text"></pre>';
    this._text = this.node.querySelector('pre') as HTMLPreElement;
  }

  /** The entry followed now, or null. */
  get entry(): string | null {
    return this._entry;
  }

  /** Follow an entry's log from its start (replacing what was shown). */
  follow(session: ProjectSession, entry: string, name: string): void {
    this.stop();
    this._session = session;
    this._entry = entry;
    this._offset = 0;
    this._text.textContent = '';
    (this.node.querySelector('.jp-ExperimentsLog-title') as HTMLElement).textContent = `Log of ${name}`;
    this._setState('following…');
    const generation = ++this._generation;
    void this._poll(generation);
  }

  stop(): void {
    this._generation++;
    clearTimeout(this._timer);
  }

  dispose(): void {
    this.stop();
    super.dispose();
  }

  private async _poll(generation: number): Promise<void> {
    const session = this._session;
    if (!session || !this._entry || generation !== this._generation) {
      return;
    }
    try {
      const answer = await session.api.logs(this._entry, this._offset);
      if (generation !== this._generation) {
        return;
      }
      if (answer.text || answer.reset) {
        const atEnd = this._text.scrollTop + this._text.clientHeight >= this._text.scrollHeight - 4;
        const text = (answer.reset ? '' : (this._text.textContent ?? '')) + answer.text;
        this._text.textContent = text.length > MAX_CHARS ? text.slice(-MAX_CHARS) : text;
        if (atEnd) {
          this._text.scrollTop = this._text.scrollHeight;
        }
      }
      this._offset = answer.offset;
      if (answer.done) {
        this._setState('finished');
        return;
      }
    } catch (error) {
      this._setState(`${(error as Error).message}`);
    }
    this._timer = setTimeout(() => void this._poll(generation), POLL_MS);
  }

  private _setState(text: string): void {
    (this.node.querySelector('.jp-ExperimentsLog-state') as HTMLElement).textContent = text;
  }

  private _session: ProjectSession | null = null;
  private _entry: string | null = null;
  private _offset = 0;
  private _text: HTMLPreElement;
  private _timer: any;
  private _generation = 0;
}
