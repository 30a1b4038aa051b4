import type { Command } from 'commander';
import { cliContext, exitCodeFor } from '../context.js';
import type { Wrap } from '../command-runner.js';

export function registerStageCommands(program: Command, wrap: Wrap): void {
  for (const [name, description, runner] of [
    ['stage', 'load sources (MySQL, dumps, CSV, JSON lines) into raw tables', 'stage'],
    ['freshness', 'check sources against their freshness rules', 'freshness'],
  ] as const) {
    const command = program.command(name).description(description);
    if (runner === 'stage') command.option('--prune', 'remove the rows of files staged earlier that are gone');
    command.action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const prune = runner === 'stage' && cmd.opts<{ prune?: boolean }>().prune === true;
        // Loaded when the command runs (see execute-commands.ts).
        const commands = await import('../../api/stage.js');
        return exitCodeFor((await commands[runner]({ ...ctx.options, ...(prune ? { prune } : {}) })).results);
      }),
    );
  }
}
