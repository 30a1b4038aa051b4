import type { Command } from 'commander';
import { freshness, stage } from '../../api/stage.js';
import { cliContext, exitCodeFor } from '../context.js';
import type { Wrap } from '../command-runner.js';

export function registerStageCommands(program: Command, wrap: Wrap): void {
  for (const [name, description, runner] of [
    ['stage', 'load sources (MySQL, dumps, CSV, JSON lines) into raw tables', stage],
    ['freshness', 'check sources against their freshness rules', freshness],
  ] as const) {
    program
      .command(name)
      .description(description)
      .action(
        wrap(async (cmd, streams) => {
          const ctx = cliContext(cmd, streams);
          return exitCodeFor((await runner(ctx.options)).results);
        }),
      );
  }
}
