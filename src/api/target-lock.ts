import { setTimeout as sleep } from 'node:timers/promises';
import { openTransport, type Adapter } from '../adapters/adapter.js';
import { currentMachine, holderText, isProcessAlive, lockedMessage, LOCKED_HINT, type LockHolder } from '../adapters/lock-holder.js';
import { ServerLock } from '../adapters/server-lock.js';
import { SqlError } from '../adapters/sql-error.js';
import { SYSTEM_DATABASE } from '../adapters/target-lock-sql.js';
import { KilnError } from '../errors.js';
import type { Reporter } from '../report/events.js';

/** Lease of a server lock, and how often its holder renews it (KILN_LOCK_LEASE_SECONDS). */
export interface LeaseConfig {
  readonly leaseSeconds: number;
  readonly heartbeatMs: number;
}

const DEFAULT_LEASE_SECONDS = 60;

/**
 * The lease from the environment: KILN_LOCK_LEASE_SECONDS (default 60). The holder beats six
 * times per lease, so a lock survives a few missed beats (a slow server, a GC pause) before it
 * can be broken, and a killed holder's lock is free again one lease after its last beat.
 */
export function leaseFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): LeaseConfig {
  const raw = Number(env.KILN_LOCK_LEASE_SECONDS);
  const leaseSeconds = Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_LEASE_SECONDS;
  return { leaseSeconds, heartbeatMs: Math.max(100, (leaseSeconds * 1000) / 6) };
}

/** `--wait`: false (refuse at once), true (wait until free), or seconds. */
export type WaitOption = boolean | number;

/**
 * Calls `attempt` until it stops failing with TARGET_LOCKED, or the wait is over. The first
 * refusal is printed as one line saying it waits; without `--wait` it is thrown as is.
 */
export async function waitingForLock<T>(attempt: () => Promise<T>, wait: WaitOption | undefined, reporter: Reporter, pollMs = 1000): Promise<T> {
  const limitMs = wait === true ? Number.POSITIVE_INFINITY : typeof wait === 'number' ? wait * 1000 : 0;
  let since: number | undefined; // the first refusal: opening the warehouse is not waiting
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof KilnError) || err.code !== 'TARGET_LOCKED' || !wait) throw err;
      if (since === undefined) {
        since = performance.now();
        reporter.emit({ type: 'info', message: `${err.message}; waiting ${limitMs === Number.POSITIVE_INFINITY ? 'until it is released' : `up to ${wait} s`}` });
      }
      const waited = performance.now() - since;
      if (waited >= limitMs) {
        throw new KilnError('TARGET_LOCKED', `${err.message}; gave up after waiting ${Math.round(waited / 1000)} s`, {
          hint: 'a longer `--wait SECONDS`, or `--wait` alone to wait until it is released; `kiln unlock` removes a lock left by a run that is gone',
        });
      }
      await sleep(Math.min(pollMs, Math.max(50, limitMs - waited)));
    }
  }
}

/**
 * A run's hold on a server target's lock: taken once (see ServerLock for the races), renewed by
 * an unref'd timer so it never keeps the process alive, and checked before each statement the
 * run sends (`assertHeld`, wired in with Adapter.guarded): once the lock is found gone or taken,
 * the run fails its next statement instead of sending it. Lock traffic uses its own connection,
 * outside the KILN_CRASH_AFTER count (its timing is the wall clock's, not the command's).
 */
export class TargetLock {
  private lost: KilnError | undefined;
  private renewing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  private constructor(
    private readonly lock: ServerLock,
    private readonly target: string,
    readonly holder: LockHolder,
    private readonly lease: LeaseConfig,
    /**
     * When the lock was last known to be this run's: taken when the check starts, not when it
     * ends, so a run stalled halfway through taking or renewing its lock checks again first.
     */
    private lastConfirmed: number,
  ) {}

  /** Takes the lock for `holder` or throws TARGET_LOCKED (exit 2) naming the live holder. */
  static async acquire(adapter: Adapter, holder: LockHolder, lease: LeaseConfig, reporter: Reporter): Promise<TargetLock> {
    const target = adapter.target;
    const lock = new ServerLock(await openTransport(target, 1), adapter.ddl, target.database);
    const askedAt = performance.now();
    try {
      const r = await lock.tryAcquire(holder, { leaseSeconds: lease.leaseSeconds, machine: currentMachine(), isAlive: isProcessAlive });
      if (!r.acquired) throw new KilnError('TARGET_LOCKED', lockedMessage(target.name, r.holder), { hint: LOCKED_HINT });
      if (r.broke) {
        const why = r.broke.status === 'dead' ? 'its process is gone' : `no heartbeat for over ${lease.leaseSeconds} s`;
        const whose = r.broke.holder ? holderText(r.broke.holder) : 'an unknown holder';
        reporter.emit({ type: 'warning', warning: { message: `took over the lock on target '${target.name}' from ${whose}: ${why}` } });
      }
    } catch (err) {
      await lock.close().catch(() => undefined);
      if (err instanceof SqlError) {
        throw new KilnError('TARGET_INVALID', `cannot take the run lock on target '${target.name}': ${err.message.split('\n')[0]}`, {
          hint: `kiln keeps its locks in the database ${SYSTEM_DATABASE}: the target's user needs to create it and tables in it`,
        });
      }
      throw err;
    }
    const held = new TargetLock(lock, target.name, holder, lease, askedAt);
    held.timer = setInterval(() => void held.renew().catch(() => undefined), lease.heartbeatMs);
    held.timer.unref();
    return held;
  }

  /** Throws once the lock is lost; renews first when the last renewal is older than two beats. */
  async assertHeld(): Promise<void> {
    if (this.lost) throw this.lost;
    if (performance.now() - this.lastConfirmed > 2 * this.lease.heartbeatMs) await this.renew();
    if (this.lost) throw this.lost;
  }

  /** Still ours? Then beat. One renewal at a time (timer and assertHeld share it). */
  private renew(): Promise<void> {
    this.renewing ??= this.verifyAndBeat().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async verifyAndBeat(): Promise<void> {
    if (this.lost || this.released) return;
    const askedAt = performance.now();
    const state = await this.lock.read();
    if (!state.exists || state.holder?.runId !== this.holder.runId) {
      this.markLost(state.exists ? `it is now held by ${state.holder ? holderText(state.holder) : 'an unknown holder'}` : 'it was removed');
      return;
    }
    // Frozen between the read and the beat, a run can wake to find its lock broken and released.
    if (!(await this.lock.beatUnlessGone())) {
      this.markLost('it was removed');
      return;
    }
    this.lastConfirmed = askedAt;
  }

  private markLost(now: string): void {
    this.lost = new KilnError('TARGET_LOCK_LOST', `lost the lock on target '${this.target}' (${now}); stopped before the next statement`, {
      hint: `its lease (${this.lease.leaseSeconds} s, KILN_LOCK_LEASE_SECONDS) ran out while this run could not renew it, or an operator ran \`kiln unlock\`; run the command again`,
    });
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Drops the lock if it is still this run's. The check and the DROP are two statements: a lock
   * broken and retaken in between (only possible once this run's lease ran out) would be dropped
   * too, and its new holder would stop at its next heartbeat — the residual window, documented.
   */
  async release(): Promise<void> {
    this.stopTimer();
    await this.renewing?.catch(() => undefined);
    this.released = true;
    try {
      if (this.lost) return;
      const state = await this.lock.read();
      if (state.exists && state.holder?.runId === this.holder.runId) await this.lock.remove();
    } finally {
      await this.lock.close().catch(() => undefined);
    }
  }
}
