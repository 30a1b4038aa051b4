import type { Readable } from 'node:stream';
import { insertInto, withSettings, type Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';

/**
 * A driver that adds up the time ClickHouse reports for each statement, so a step that runs many
 * (staging a table) can report its query time like a model does, and keeps the text of each
 * statement for target/run/. It shares the inner driver's connection and does not close it.
 */
export class MeteredDriver implements Driver {
  elapsedMs = 0;
  /** Each statement as sent (with its SETTINGS), in the order sent; inserts of a body name their format. */
  readonly statements: string[] = [];

  constructor(private readonly inner: Driver) {}

  get kind(): Driver['kind'] {
    return this.inner.kind;
  }

  private async count<R extends ExecResult>(run: Promise<R>): Promise<R> {
    const r = await run;
    this.elapsedMs += r.elapsedMs;
    return r;
  }

  execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    this.statements.push(withSettings(sql, opts?.settings));
    return this.count(this.inner.execute(sql, opts));
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    this.statements.push(withSettings(sql, opts?.settings));
    return this.count(this.inner.query<T>(sql, opts));
  }

  insertStream(table: Relation, body: Readable, format: string, opts?: ExecOptions & { readonly columns?: readonly string[] }): Promise<ExecResult> {
    this.statements.push(`${insertInto(table, opts?.columns, { format })}\n-- (rows streamed in ${format})`);
    return this.count(this.inner.insertStream(table, body, format, opts));
  }

  insertFile(table: Relation, path: string, format: string, opts?: ExecOptions & { readonly structure?: string }): Promise<ExecResult> {
    this.statements.push(insertInto(table, undefined, { file: path, format, ...(opts?.structure ? { structure: opts.structure } : {}) }));
    return this.count(this.inner.insertFile(table, path, format, opts));
  }

  describeFile(path: string, format: string, opts?: ExecOptions): Promise<Array<{ name: string; type: string }>> {
    return this.inner.describeFile(path, format, opts);
  }

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult> {
    this.statements.push(withSettings(insertInto(table, columns, { select }), opts?.insertSettings));
    return this.count(this.inner.insertLocalSelect(table, columns, select, opts));
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.count(this.inner.queryLocal<T>(sql, opts));
  }

  /** The inner driver belongs to whoever made it. */
  async close(): Promise<void> {}
}
