/**
 * The Experiments tab: the shared table module (jupyter_exp/widgets/table.js, bundled
 * from src/vendor/) drawn into a Lumino widget, over the project's ServerModel.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import table from './vendor/table.js';
import { embed } from './vega';
import { ProjectSession } from './workbench';

export class ExperimentsPanel extends Widget {
  constructor(readonly session: ProjectSession) {
    super();
    this.addClass('jp-ExperimentsPanel');
    const cleanup = table.render({ model: session.model as any, el: this.node, embed } as any);
    this._cleanup = typeof cleanup === 'function' ? cleanup : null;
  }

  get project(): string {
    return this.session.project;
  }

  dispose(): void {
    this._cleanup?.();
    super.dispose();
  }

  private _cleanup: (() => void) | null;
}

/** The main-area tab for a project's experiments. */
export function createExperimentsTab(session: ProjectSession): MainAreaWidget<ExperimentsPanel> {
  const content = new ExperimentsPanel(session);
  const tab = new MainAreaWidget({ content });
  tab.id = `jupyter-exp-${encodeURIComponent(session.project) || 'root'}`;
  tab.title.label = `Experiments: ${session.label}`;
  tab.title.caption = `DVC experiments of ${session.project || 'the server root'}`;
  tab.title.closable = true;
  tab.addClass('jp-ExperimentsTab');
  return tab;
}
