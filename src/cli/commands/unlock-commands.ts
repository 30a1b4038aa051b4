import type { Command } from 'commander';
import { holderText } from '../../adapters/lock-holder.js';
import type { Wrap } from '../command-runner.js';
import { cliContext, EXIT } from '../context.js';

/** `kiln unlock`: release a target lock left by a dead run. */
export function registerUnlockCommands(program: Command, wrap: Wrap): void {
  program
    .command('unlock')
    .description("release the target's run lock (one left by a run that died); use --target to pick the target")
    .action(
      wrap(async (cmd, streams) => {
        const ctx = cliContext(cmd, streams);
        const { unlock } = await import('../../api/unlock.js');
        const r = await unlock(ctx.options);
        const message = !r.removed
          ? `target '${r.target}' is not locked`
          : `released the lock on target '${r.target}' held by ${r.holder ? holderText(r.holder) : 'an unknown holder'}`;
        ctx.reporter.emit({ type: 'info', message });
        return EXIT.ok;
      }),
    );
}
