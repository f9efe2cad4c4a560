/**
 * The run and queue commands: the params form in a dialog until it is cancelled or the
 * server accepts the request (POST run).
 */
import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { IParamsAnswer, IRunRequest } from './api';
import { RunForm } from './runForm';
import { ProjectSession } from './workbench';

/** Shows the form until it is cancelled or the server accepts the run; returns the server's answer line. */
export async function runWithParams(session: ProjectSession, queue: boolean): Promise<string | null> {
  let params: IParamsAnswer;
  try {
    params = await session.api.params();
  } catch (error) {
    await showErrorMessage('Experiments', `${(error as Error).message}`);
    return null;
  }
  let form = new RunForm(params, queue);
  for (;;) {
    const result = await showDialog<IRunRequest | Error>({
      title: queue ? `Queue experiments: ${session.label}` : `Run experiment with params: ${session.label}`,
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: queue ? 'Queue' : 'Run' })],
      focusNodeSelector: '[data-param], textarea'
    });
    if (!result.button.accept) {
      return null;
    }
    const value = result.value;
    // The dialog disposed the form: a refused request comes back in a new one, as typed.
    const again = (text: string) => {
      form = new RunForm(params, queue, form.snapshot());
      form.showError(text);
    };
    if (value instanceof Error || value === null) {
      again(value?.message ?? 'The form could not be read.');
      continue;
    }
    try {
      const answer = await session.api.run(value);
      const names = (answer.started ?? answer.queued ?? []).map(e => e.name).join(', ');
      const line = answer.started ? `Started ${names}.` : `Queued ${names}.`;
      session.model.set('message', line);
      session.model.set('message_kind', 'info');
      return line;
    } catch (error) {
      again((error as Error).message);
    }
  }
}
