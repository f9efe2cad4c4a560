/** The workbench's command ids (palette, notebook toolbar, the table's lab buttons). */
export namespace CommandIDs {
  export const open = 'jupyter-exp:open';
  export const run = 'jupyter-exp:run-with-params';
  export const queue = 'jupyter-exp:queue-experiments';
  export const logs = 'jupyter-exp:show-queue-logs';
  export const sidebar = 'jupyter-exp:show-sidebar';
}

/** The table's lab-only buttons (`jx-lab-command` events) and the commands they run. */
export const TABLE_COMMANDS: Record<string, string> = {
  run: CommandIDs.run,
  queue: CommandIDs.queue,
  logs: CommandIDs.logs
};
