/**
 * jupyter-exp: DVC-compatible experiments in JupyterLab without a kernel. An
 * Experiments tab per project (the notebook widget's table, over the server API), a
 * sidebar (experiments, queue, log, columns), a status-bar item, and commands to run
 * or queue experiments with params from a form.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { CommandToolbarButton, ICommandPalette, MainAreaWidget, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { Widget } from '@lumino/widgets';
import { applyWithOpenDocuments, isApply } from './apply';
import { CommandIDs, TABLE_COMMANDS } from './commands';
import { flaskIcon } from './icon';
import { createExperimentsTab, ExperimentsPanel } from './panel';
import { runWithParams } from './runCommand';
import { ExperimentsSidebar } from './sidebar';
import { ExperimentsStatus } from './statusItem';
import { ProjectSession, Workbench } from './workbench';
import { shareEmbed } from './vega';

const PLUGIN_ID = 'jupyter-exp:plugin';
const CATEGORY = 'Experiments';

type Tab = MainAreaWidget<ExperimentsPanel>;

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Experiments tab, sidebar, status bar and run/queue forms for DVC-compatible projects.',
  autoStart: true,
  optional: [ILayoutRestorer, ICommandPalette, IStatusBar, INotebookTracker, IDefaultFileBrowser, IDocumentManager],
  activate: (
    app: JupyterFrontEnd,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    statusBar: IStatusBar | null,
    notebooks: INotebookTracker | null,
    fileBrowser: IDefaultFileBrowser | null,
    docManager: IDocumentManager | null
  ) => {
    const { commands, shell } = app;
    shareEmbed(); // the notebook widget's table plots with the bundled vega too
    const workbench = new Workbench(app.serviceManager.serverSettings, session => async message => {
      if (docManager && isApply(message)) {
        await applyWithOpenDocuments(app, docManager, session, message);
        return false;
      }
      return true;
    });
    const tracker = new WidgetTracker<Tab>({ namespace: 'jupyter-exp' });

    /** The project of what the user looks at: a tab of ours, a document, or the file browser's folder. */
    const projectHere = async (): Promise<ProjectSession | null> => {
      const widget = shell.currentWidget;
      if (widget && tracker.has(widget)) {
        return (widget as Tab).content.session;
      }
      const context = widget && docManager ? docManager.contextForWidget(widget) : undefined;
      const info =
        (context && (await workbench.projectOfPath(context.path, false))) ||
        (fileBrowser && (await workbench.projectOfPath(fileBrowser.model.path, true)));
      return info ? workbench.open(info) : workbench.current;
    };

    const sessionFor = async (args: any): Promise<ProjectSession | null> => {
      if (typeof args?.project === 'string') {
        try {
          return workbench.open(await workbench.projectOf(args.project));
        } catch (error) {
          await showErrorMessage('Experiments', (error as Error).message);
          return null;
        }
      }
      const session = await projectHere();
      if (!session) {
        await showErrorMessage(
          'Experiments',
          'No DVC project here: open a notebook, or browse to a folder, inside a project (one with a .dvc folder).'
        );
      }
      return session;
    };

    const openTab = async (session: ProjectSession, activate = true): Promise<Tab> => {
      let tab = tracker.find(t => t.content.project === session.project);
      if (!tab) {
        tab = createExperimentsTab(session);
        tab.title.icon = flaskIcon;
        tab.content.node.addEventListener('jx-lab-command', (ev: Event) => {
          const command = TABLE_COMMANDS[(ev as CustomEvent).detail?.command];
          if (command) {
            void commands.execute(command, { project: session.project });
          }
        });
        tab.disposed.connect(() => {
          const shown = tracker.find(t => t !== tab && t.content.project === session.project);
          workbench.release(session.project, !!shown);
        });
        void tracker.add(tab);
        shell.add(tab, 'main');
      }
      if (activate) {
        shell.activateById(tab.id);
      }
      workbench.setCurrent(session);
      return tab;
    };

    const sidebar = new ExperimentsSidebar(workbench, (session, key) => {
      void openTab(session).then(() => {
        session.model.set('selected', [key]);
        session.model.save_changes();
      });
    });
    sidebar.title.icon = flaskIcon;
    shell.add(sidebar, 'left', { rank: 600 });

    commands.addCommand(CommandIDs.open, {
      label: 'Open experiments',
      caption: "Open the project's experiments table in a tab",
      icon: flaskIcon,
      execute: async args => {
        const session = await sessionFor(args);
        return session ? openTab(session, args?.activate !== false) : null;
      }
    });
    commands.addCommand(CommandIDs.run, {
      label: 'Run experiment with params…',
      caption: 'Run an experiment in a worker process, with params chosen in a form',
      execute: async args => {
        const session = await sessionFor(args);
        if (session) {
          await runWithParams(session, false);
        }
      }
    });
    commands.addCommand(CommandIDs.queue, {
      label: 'Queue experiments…',
      caption: 'Queue experiments (a sweep too) with params chosen in a form',
      execute: async args => {
        const session = await sessionFor(args);
        if (session) {
          await runWithParams(session, true);
          await sidebar.refreshQueue();
        }
      }
    });
    commands.addCommand(CommandIDs.logs, {
      label: 'Show queue logs',
      caption: "Follow the running queue entry's log in the Experiments sidebar",
      execute: async args => {
        const session = await sessionFor(args);
        if (session) {
          workbench.setCurrent(session);
          shell.activateById(sidebar.id);
          if (!(await sidebar.followBusiest())) {
            sidebar.log.node.querySelector('.jp-ExperimentsLog-title')!.textContent = 'No queue entry has a log yet.';
          }
        }
      }
    });
    commands.addCommand(CommandIDs.sidebar, {
      label: 'Show experiments sidebar',
      execute: () => shell.activateById(sidebar.id)
    });
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: CATEGORY });
      }
    }

    if (restorer) {
      void restorer.restore(tracker, {
        command: CommandIDs.open,
        args: tab => ({ project: tab.content.project, activate: false }),
        name: tab => tab.content.project || '.'
      });
      restorer.add(sidebar, 'jupyter-exp-sidebar');
    }

    if (statusBar) {
      const item = new ExperimentsStatus(workbench, () => void commands.execute(CommandIDs.open));
      statusBar.registerStatusItem('jupyter-exp:status', {
        item,
        align: 'left',
        rank: 5,
        isActive: () => workbench.current !== null,
        activeStateChanged: workbench.currentChanged as any
      });
    }

    if (notebooks) {
      notebooks.widgetAdded.connect((_, panel) => {
        panel.toolbar.insertItem(
          10,
          'jupyter-exp-run',
          new CommandToolbarButton({ commands, id: CommandIDs.run, label: 'Run with params…' }) as Widget
        );
        panel.toolbar.insertItem(
          11,
          'jupyter-exp-open',
          new CommandToolbarButton({ commands, id: CommandIDs.open, label: 'Experiments' }) as Widget
        );
      });
    }

    // The current project follows what the user looks at.
    const follow = async () => {
      const widget = shell.currentWidget;
      if (widget && tracker.has(widget)) {
        workbench.setCurrent((widget as Tab).content.session);
        return;
      }
      const context = widget && docManager ? docManager.contextForWidget(widget) : undefined;
      if (context) {
        const info = await workbench.projectOfPath(context.path, false);
        if (info) {
          workbench.setCurrent(workbench.open(info));
        }
      }
    };
    shell.currentChanged?.connect(() => void follow());
    if (fileBrowser) {
      const fromBrowser = async () => {
        const info = await workbench.projectOfPath(fileBrowser.model.path, true);
        if (info && !workbench.current) {
          workbench.setCurrent(workbench.open(info));
        }
      };
      fileBrowser.model.pathChanged.connect(() => void fromBrowser());
      void app.restored.then(fromBrowser);
    }
  }
};

export default plugin;
