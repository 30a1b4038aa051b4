import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Adapter } from '../adapters/adapter.js';
import { currentMachine, holderText, isProcessAlive, type LockHolder } from '../adapters/lock-holder.js';
import { ServerLock } from '../adapters/server-lock.js';
import { KilnError } from '../errors.js';
import { loadProject } from '../project/load-project.js';
import type { InvocationOptions } from './options.js';

/** What `kiln unlock` did. */
export interface UnlockOutcome {
  readonly target: string;
  /** False when the target was not locked. */
  readonly removed: boolean;
  readonly holder: LockHolder | undefined;
}

/**
 * `kiln unlock`: removes the target's run lock, for an operator whose run died and who will not
 * wait for its lease. On a server it drops the lock whoever holds it (a live holder then stops
 * before its next statement) and the tombstones of broken locks. An embedded target's lock is
 * removed only when its process is gone: a live one still has the data folder open.
 */
export async function unlock(options: InvocationOptions): Promise<UnlockOutcome> {
  const project = loadProject({
    ...(options.projectDir ? { projectDir: options.projectDir } : {}),
    ...(options.target ? { target: options.target } : {}),
    ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
    ...(options.vars ? { vars: options.vars } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const { target } = project;
  if (target.engine === 'embedded') {
    const { folderLockPath, readFolderLock } = await import('../adapters/embedded-driver.js');
    const path = folderLockPath(target.path!);
    const holder = readFolderLock(target.path!);
    if (!holder) {
      rmSync(path, { force: true });
      removeTakeoverLeftovers(target.path!);
      return { target: target.name, removed: false, holder };
    }
    if (holder.pid !== process.pid && (holder.machine === '' || holder.machine === currentMachine()) && isProcessAlive(holder.pid)) {
      throw new KilnError('TARGET_LOCKED', `target '${target.name}' is locked by ${holderText(holder)}, which is still running`, {
        hint: 'stop that process (an embedded warehouse cannot be shared, so its lock goes when it ends)',
      });
    }
    rmSync(path, { force: true });
    removeTakeoverLeftovers(target.path!);
    return { target: target.name, removed: true, holder };
  }
  const adapter = await Adapter.connect(target, { threads: 1 });
  try {
    const state = await new ServerLock(adapter.driver, adapter.ddl, target.database).remove({ tombstones: true });
    return { target: target.name, removed: state.exists, holder: state.holder };
  } finally {
    await adapter.close();
  }
}

/** Names a process killed halfway through taking the folder's lock can leave (see acquireFolderLock). */
function removeTakeoverLeftovers(folder: string): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^kiln\.lock\.(\d+|unknown)\.(stale|new)$/.exec(name);
    if (m && (m[2] === 'stale' || !isProcessAlive(Number(m[1])))) rmSync(join(folder, name), { force: true });
  }
}
