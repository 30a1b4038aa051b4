import type { Command } from 'commander';
import type { Wrap } from '../command-runner.js';
import { cliContext, exitCodeFor } from '../context.js';

/** `kiln test`: data tests and unit tests of the selection (a test follows the nodes it reads). */
export function registerTestCommands(program: Command, wrap: Wrap): void {
  program
    .command('test')
    .description('run data tests and unit tests (--select a model to run the tests attached to it)')
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        // Loaded when the command runs (see execute-commands.ts).
        const { test } = await import('../../api/test.js');
        const outcome = await test(ctx.options);
        return exitCodeFor(outcome.results);
      }),
    );
}
