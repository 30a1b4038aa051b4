import type { Command } from 'commander';
import { build, run, seed, type CommandOutcome } from '../../api/run.js';
import type { InvocationOptions } from '../../api/options.js';
import { cliContext, exitCodeFor } from '../context.js';
import type { CommandRunner, Wrap } from '../command-runner.js';

type Runner = (options: InvocationOptions) => Promise<CommandOutcome>;

function executing(runner: Runner): CommandRunner {
  return async (cmd, streams) => {
    const ctx = cliContext(cmd, streams);
    const outcome = await runner(ctx.options);
    return exitCodeFor(outcome.results);
  };
}

export function registerExecuteCommands(program: Command, wrap: Wrap): void {
  program.command('run').description('materialize the selected models in DAG order').action(wrap(executing(run)));
  program.command('seed').description('load seed CSVs into tables').action(wrap(executing(seed)));
  program
    .command('build')
    .description('seeds, then models in DAG order (stage and tests join as they land)')
    .action(wrap(executing(build)));
}
