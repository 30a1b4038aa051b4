import type { Command } from 'commander';
import { cliContext, exitCodeFor } from '../context.js';
import type { Wrap } from '../command-runner.js';

export function registerStageCommands(program: Command, wrap: Wrap): void {
  for (const [name, description, runner] of [
    ['stage', 'load sources (MySQL, dumps, CSV, JSON lines) into raw tables', 'stage'],
    ['freshness', 'check sources against their freshness rules', 'freshness'],
  ] as const) {
    program
      .command(name)
      .description(description)
      .action(
        wrap(async (cmd, streams) => {
          const ctx = cliContext(cmd, streams);
          // Loaded when the command runs (see execute-commands.ts).
          const commands = await import('../../api/stage.js');
          return exitCodeFor((await commands[runner](ctx.options)).results);
        }),
      );
  }
}
