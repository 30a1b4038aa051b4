import type { Adapter } from '../adapters/adapter.js';
import type { Relation } from '../adapters/ddl.js';
import * as q from '../adapters/test-queries.js';

const PREFIX = '__kiln_unit__';

/** How old another run's scratch database must be before a lock holder drops it on a server. */
const LEFTOVER_SECONDS = 6 * 3600;

/**
 * The scratch database a run's unit tests share: created by the first test that runs, dropped
 * when the last one is done. Its name carries the target database, the run's id and when it was
 * made, so a run killed before the drop (or whose last tests were skipped) leaves a database
 * that a later run holding the target's lock drops before creating its own. `kiln test` on a
 * server runs without the lock (it reads), so a writer cannot tell a live test run's scratch
 * from a dead one's except by age: on a server only those older than LEFTOVER_SECONDS go. The
 * embedded engine admits one process per folder, so there every other run's is a leftover.
 */
export class UnitTestScratch {
  readonly database: string;
  private readonly leftoverPrefix: string;
  private ready: Promise<void> | undefined;
  private pending: number;

  constructor(
    private readonly adapter: Adapter,
    targetDatabase: string,
    runId: string,
    /** How many unit tests of the run will use it (skipped ones never report back). */
    tests: number,
    /** This run holds the target's lock: other runs' leftovers may be dropped. */
    private readonly holdsTargetLock: boolean,
    now: Date = new Date(),
  ) {
    this.leftoverPrefix = `${PREFIX}${targetDatabase}__`;
    this.database = `${this.leftoverPrefix}${runId}_${Math.floor(now.getTime() / 1000).toString(36)}`;
    this.pending = tests;
  }

  /** A table of test number `test`, unique within the run. */
  table(test: number, name: string): Relation {
    return { database: this.database, name: `t${test}_${name}` };
  }

  /** Ensures the database exists (dropping leftovers of earlier runs first, once). */
  acquire(): Promise<void> {
    this.ready ??= this.create().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** A test is done with its tables; after the last one the database goes. */
  async release(): Promise<void> {
    if (--this.pending > 0) return;
    this.ready = undefined;
    await this.adapter.execute(q.dropScratchDatabase(this.database)).catch(() => undefined);
  }

  private async create(): Promise<void> {
    if (this.holdsTargetLock) {
      const r = await this.adapter.query<{ name: string }>(q.listDatabases());
      const embedded = this.adapter.driver.kind === 'embedded';
      for (const { name } of r.rows) {
        if (name.startsWith(this.leftoverPrefix) && name !== this.database && (embedded || scratchAgeSeconds(name) > LEFTOVER_SECONDS)) {
          await this.adapter.execute(q.dropScratchDatabase(name));
        }
      }
    }
    await this.adapter.execute(q.createScratchDatabase(this.database));
  }
}

/** Seconds since a scratch database was made, from its name (Infinity for a name without a time: made before names had one). */
export function scratchAgeSeconds(name: string, now: Date = new Date()): number {
  const m = /_([0-9a-z]+)$/.exec(name.slice(name.lastIndexOf('__') + 2));
  if (!m) return Number.POSITIVE_INFINITY;
  const made = Number.parseInt(m[1]!, 36);
  return Number.isFinite(made) ? now.getTime() / 1000 - made : Number.POSITIVE_INFINITY;
}
