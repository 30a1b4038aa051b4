import type { Command } from 'commander';
import { NO_VALIDATE } from './execute-commands.js';
import type { RebuildReport } from '../../api/watch.js';
import { formatError, KilnError, KilnErrors } from '../../errors.js';
import type { Wrap } from '../command-runner.js';
import { cliContext, EXIT, exitCodeFor } from '../context.js';

/** `kiln watch`: build once, then rebuild what changes until Ctrl-C. */
export function registerWatchCommands(program: Command, wrap: Wrap): void {
  program
    .command('watch')
    .description('build, then rebuild changed models (and everything downstream) and stage new event files as they appear')
    .option('--debounce <ms>', 'quiet time after the last change before rebuilding', '150')
    .option(...NO_VALIDATE)
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const debounceMs = Math.max(0, Number(cmd.opts<{ debounce: string }>().debounce) || 0);
        const say = (message: string) => ctx.reporter.emit({ type: 'info', message });
        // Loaded when used: watching pulls in chokidar, which no other command needs.
        const { watch } = await import('../../api/watch.js');
        const session = await watch({
          ...ctx.options,
          debounceMs,
          onRebuild: (r) => say(rebuildLine(r)),
          onError: (err, changed) => {
            const errors = err instanceof KilnErrors ? err.errors : err instanceof KilnError ? [err] : undefined;
            const text = errors ? errors.map(formatError).join('\n') : `internal error: ${err.message}`;
            ctx.reporter.error(`${changed.join(', ')}: not rebuilt\n${text}`);
          },
        });
        say(`Watching for changes (exit code so far: ${exitCodeFor(session.initial)}; Ctrl-C to stop)`);
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await session.close();
        say('Stopped watching; warehouse closed');
        return EXIT.ok;
      }),
    );
}

/** `[watch] models/a.sql changed → rebuilt a, b · tests 3 passed, 1 failed · 0.41s` */
export function rebuildLine(r: RebuildReport): string {
  const count = (...statuses: string[]) => r.results.filter((x) => statuses.includes(x.status)).length;
  const tests = r.results.filter((x) => x.unique_id.startsWith('test.') || x.unique_id.startsWith('unit_test.'));
  const testPart = tests.length
    ? `tests ${tests.filter((t) => t.status === 'pass').length} passed, ${tests.filter((t) => t.status === 'fail' || t.status === 'error').length} failed${
        tests.some((t) => t.status === 'warn') ? `, ${tests.filter((t) => t.status === 'warn').length} warned` : ''
      }`
    : 'no tests';
  const errors = count('error');
  const skipped = count('skipped');
  const problems = [errors ? `${errors} errored` : '', skipped ? `${skipped} skipped` : ''].filter(Boolean).join(', ');
  const rebuilt = r.rebuilt.length ? `rebuilt ${r.rebuilt.join(', ')}` : 'nothing to rebuild';
  return `[watch] ${r.changed.join(', ')} changed → ${rebuilt}${problems ? ` (${problems})` : ''} · ${testPart} · ${(r.elapsedMs / 1000).toFixed(2)}s`;
}
