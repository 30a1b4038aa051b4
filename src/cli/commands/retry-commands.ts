import type { Command } from 'commander';
import type { Wrap } from '../command-runner.js';
import { NO_VALIDATE } from './execute-commands.js';
import { cliContext, EXIT, exitCodeFor } from '../context.js';

/** `kiln retry`: rerun what errored, failed or was skipped in the last run. */
export function registerRetryCommands(program: Command, wrap: Wrap): void {
  program
    .command('retry')
    .description('rerun what errored, failed or was skipped in the last run (target/run_results.json)')
    .option(...NO_VALIDATE)
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        // Loaded when the command runs (see execute-commands.ts).
        const [{ retry, RETRYABLE }, { test }] = await Promise.all([import('../../api/retry.js'), import('../../api/test.js')]);
        const { command, outcome } = await retry(ctx.options, { ...RETRYABLE, test });
        if (!outcome) {
          ctx.reporter.emit({ type: 'info', message: `Nothing to retry: the last ${command} had no errors, failures or skips` });
          return EXIT.ok;
        }
        return exitCodeFor(outcome.results);
      }),
    );
}
