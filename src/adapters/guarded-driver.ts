import type { Readable } from 'node:stream';
import type { Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';

/**
 * A driver that awaits `check` before each statement (and fails it when `check` throws). The
 * target lock uses it so that a run which lost its lock sends nothing more. Shares the inner
 * driver's connection and does not close it.
 */
export class GuardedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly check: () => Promise<void>,
  ) {}

  get kind(): Driver['kind'] {
    return this.inner.kind;
  }

  private async guard<R>(run: () => Promise<R>): Promise<R> {
    await this.check();
    return run();
  }

  execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.guard(() => this.inner.execute(sql, opts));
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.guard(() => this.inner.query<T>(sql, opts));
  }

  insertStream(table: Relation, body: Readable, format: string, opts?: ExecOptions & { readonly columns?: readonly string[] }): Promise<ExecResult> {
    return this.guard(() => this.inner.insertStream(table, body, format, opts));
  }

  insertFile(table: Relation, path: string, format: string, opts?: ExecOptions & { readonly structure?: string }): Promise<ExecResult> {
    return this.guard(() => this.inner.insertFile(table, path, format, opts));
  }

  describeFile(path: string, format: string, opts?: ExecOptions): Promise<Array<{ name: string; type: string }>> {
    return this.inner.describeFile(path, format, opts);
  }

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult> {
    return this.guard(() => this.inner.insertLocalSelect(table, columns, select, opts));
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.inner.queryLocal<T>(sql, opts);
  }

  /** The inner driver belongs to whoever made it. */
  async close(): Promise<void> {}
}
