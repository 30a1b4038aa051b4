import type { Command } from 'commander';
import type { CommandOutcome } from '../../api/run.js';
import type { InvocationOptions } from '../../api/options.js';
import { cliContext, exitCodeFor } from '../context.js';
import type { CommandRunner, Wrap } from '../command-runner.js';

type Runner = (options: InvocationOptions) => Promise<CommandOutcome>;
type Commands = typeof import('../../api/run.js');

/**
 * The command's module is loaded when the command runs: each command loads only what it uses
 * (`kiln compile` never loads staging, the warehouse drivers or the file watcher).
 */
function executing(pick: (m: Commands) => Runner): CommandRunner {
  return async (cmd, streams) => {
    const ctx = cliContext(cmd, streams);
    const outcome = await pick(await import('../../api/run.js'))(ctx.options);
    return exitCodeFor(outcome.results);
  };
}

export function registerExecuteCommands(program: Command, wrap: Wrap): void {
  program.command('run').description('materialize the selected models in DAG order').action(wrap(executing((m) => m.run)));
  program.command('seed').description('load seed CSVs into tables').action(wrap(executing((m) => m.seed)));
  program.command('snapshot').description('take the selected snapshots (SCD type 2 history)').action(wrap(executing((m) => m.snapshot)));
  program
    .command('build')
    .description('seeds, then models and snapshots in DAG order (stage and tests join as they land)')
    .action(wrap(executing((m) => m.build)));
}
