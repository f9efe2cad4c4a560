/**
 * Notebook-aware apply: before the table's Apply rewrites files in the workspace, ask
 * the server which files it would change (GET apply-preview), find the documents open
 * in JupyterLab at those paths, and ask before overwriting unsaved edits. Afterwards
 * the open documents reload, so no editor holds the pre-apply text to save over it.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { Widget } from '@lumino/widgets';
import { ProjectSession } from './workbench';

/** The open documents among `paths` (server-root-relative), each once. */
export function openDocuments(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  paths: string[]
): DocumentRegistry.Context[] {
  const wanted = new Set(paths);
  const found = new Map<string, DocumentRegistry.Context>();
  for (const widget of Array.from(app.shell.widgets('main'))) {
    const context = docManager.contextForWidget(widget);
    if (context && wanted.has(context.path) && !found.has(context.path)) {
      found.set(context.path, context);
    }
  }
  return [...found.values()];
}

/** Is the message an Apply of one row? */
export function isApply(message: any): boolean {
  return message?.type === 'action' && message.action === 'apply' && (message.keys ?? []).length === 1;
}

/**
 * Sends an Apply message after checking open documents; returns when done (or cancelled).
 */
export async function applyWithOpenDocuments(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  session: ProjectSession,
  message: any
): Promise<void> {
  let paths: string[] = [];
  try {
    paths = (await session.api.applyPreview(message.keys[0])).paths;
  } catch (error) {
    session.model.showError(error);
    return;
  }
  const open = openDocuments(app, docManager, paths);
  const dirty = open.filter(c => c.model.dirty);
  if (dirty.length) {
    const body = document.createElement('div');
    body.className = 'jp-ExperimentsApplyDialog';
    body.innerHTML =
      '<p>Applying this experiment rewrites files that have unsaved changes open in JupyterLab:</p><ul></ul>' +
      '<p><b>Save, then apply</b> keeps your edits: apply stashes uncommitted work first and says how to get it back. ' +
      '<b>Discard and apply</b> drops the unsaved edits.</p>';
    const list = body.querySelector('ul') as HTMLUListElement;
    for (const context of dirty) {
      const item = document.createElement('li');
      item.textContent = context.path;
      list.appendChild(item);
    }
    const result = await showDialog({
      title: 'Apply over unsaved changes?',
      body: new Widget({ node: body }),
      buttons: [
        Dialog.cancelButton(),
        Dialog.warnButton({ label: 'Discard and apply', displayType: 'warn', actions: ['discard'] }),
        Dialog.okButton({ label: 'Save, then apply' })
      ]
    });
    if (!result.button.accept && !result.button.actions.includes('discard')) {
      session.model.set('message', 'Apply cancelled: the open documents keep their unsaved changes.');
      session.model.set('message_kind', 'info');
      return;
    }
    if (result.button.accept) {
      await Promise.all(dirty.map(c => c.save()));
    }
  }
  await session.model.request(message, false);
  if (session.model.get('message_kind') !== 'error') {
    // Show the applied files, not the editors' older copies.
    await Promise.all(open.map(c => c.revert().catch(() => undefined)));
  }
}
