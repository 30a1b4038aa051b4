import type { Adapter } from '../adapters/adapter.js';
import type { Relation } from '../adapters/ddl.js';
import * as q from '../adapters/test-queries.js';

const PREFIX = '__kiln_unit__';

/**
 * The scratch database a run's unit tests share: created by the first test that runs, dropped
 * when the last one is done. Its name starts with the target database's, so a run killed
 * before the drop (or whose last tests were skipped) leaves a database the next run against
 * the same target drops before creating its own — the same one-run-per-target assumption the
 * temporary relations of models make.
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
  ) {
    this.leftoverPrefix = `${PREFIX}${targetDatabase}__`;
    this.database = `${this.leftoverPrefix}${runId}`;
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
    const r = await this.adapter.query<{ name: string }>(q.listDatabases());
    for (const { name } of r.rows) {
      if (name.startsWith(this.leftoverPrefix)) await this.adapter.execute(q.dropScratchDatabase(name));
    }
    await this.adapter.execute(q.createScratchDatabase(this.database));
  }
}
