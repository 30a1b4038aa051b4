import { Adapter } from '../adapters/adapter.js';
import { currentHolder } from '../adapters/lock-holder.js';
import type { Invocation } from './invocation.js';
import { leaseFromEnv, TargetLock, waitingForLock } from './target-lock.js';

/** Connects to the invocation's target (unreachable → exit-2 error before anything runs). */
export function connectWarehouse(inv: Invocation, command: string): Promise<Adapter> {
  const holder = currentHolder(command, inv.invocationId);
  // An embedded target is locked by opening it (see EmbeddedDriver): --wait applies to any command.
  return waitingForLock(
    () => Adapter.connect(inv.compiled.project.target, { threads: threadsOf(inv), lockAs: holder }),
    inv.options.wait,
    inv.reporter,
  );
}

/** A command's warehouse: its adapter (guarded by the target lock when it holds one) and how to let go. */
export interface WarehouseSession {
  readonly adapter: Adapter;
  /** True when this run holds the target's lock, so no other run is writing to it. */
  readonly holdsTargetLock: boolean;
  /** Releases the lock and closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects and, for a command that writes, takes the target's run lock before anything else is
 * sent. An embedded target is locked by the connection itself (one process per data folder,
 * whatever the command); a server is locked only by writers (see TargetLock).
 */
export async function openWarehouse(inv: Invocation, command: string, writes: boolean): Promise<WarehouseSession> {
  const adapter = await connectWarehouse(inv, command);
  if (adapter.driver.kind === 'embedded' || !writes) {
    return { adapter, holdsTargetLock: adapter.driver.kind === 'embedded', close: () => adapter.close() };
  }
  let lock: TargetLock;
  try {
    const holder = currentHolder(command, inv.invocationId);
    const lease = leaseFromEnv(inv.options.env ?? process.env);
    lock = await waitingForLock(() => TargetLock.acquire(adapter, holder, lease, inv.reporter), inv.options.wait, inv.reporter);
  } catch (err) {
    await adapter.close().catch(() => undefined);
    throw err;
  }
  return {
    adapter: adapter.guarded(() => lock.assertHeld()),
    holdsTargetLock: true,
    async close() {
      try {
        await lock.release();
      } finally {
        await adapter.close();
      }
    },
  };
}

export function threadsOf(inv: Invocation): number {
  return inv.options.threads ?? inv.compiled.project.target.threads ?? 4;
}
