import type { Readable } from 'node:stream';
import type { Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';

type InsertStreamOptions = ExecOptions & { readonly columns?: readonly string[] };
type InsertFileOptions = ExecOptions & { readonly structure?: string };

/**
 * One call a wrapper passes on, described so that it can act on it without repeating the
 * Driver's seven signatures. `describeFile` and `queryLocal` are `local`: ClickHouse on this
 * machine answers them and nothing reaches the target.
 */
export type DriverCall =
  | { readonly method: 'execute' | 'query'; readonly sql: string; readonly opts?: ExecOptions }
  | { readonly method: 'insertStream'; readonly table: Relation; readonly format: string; readonly opts?: InsertStreamOptions }
  | { readonly method: 'insertFile'; readonly table: Relation; readonly path: string; readonly format: string; readonly opts?: InsertFileOptions }
  | { readonly method: 'insertLocalSelect'; readonly table: Relation; readonly columns: readonly string[]; readonly select: string; readonly opts?: LocalSelectOptions }
  | { readonly method: 'describeFile' | 'queryLocal'; readonly local: true };

/**
 * A driver that passes every call to an inner one through `around`, the single place a wrapper
 * adds its behaviour (a lock check, a statement log, a crash point, clearer cluster errors).
 * `ownsInner` says whether closing the wrapper closes the inner driver: a wrapper made over a
 * shared connection must leave it to whoever made it.
 */
export abstract class WrappingDriver implements Driver {
  constructor(
    protected readonly inner: Driver,
    private readonly ownsInner: boolean,
  ) {}

  get kind(): Driver['kind'] {
    return this.inner.kind;
  }

  protected abstract around<R>(call: DriverCall, run: () => Promise<R>): Promise<R>;

  execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.around({ method: 'execute', sql, opts }, () => this.inner.execute(sql, opts));
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.around({ method: 'query', sql, opts }, () => this.inner.query<T>(sql, opts));
  }

  insertStream(table: Relation, body: Readable, format: string, opts?: InsertStreamOptions): Promise<ExecResult> {
    return this.around({ method: 'insertStream', table, format, opts }, () => this.inner.insertStream(table, body, format, opts));
  }

  insertFile(table: Relation, path: string, format: string, opts?: InsertFileOptions): Promise<ExecResult> {
    return this.around({ method: 'insertFile', table, path, format, opts }, () => this.inner.insertFile(table, path, format, opts));
  }

  describeFile(path: string, format: string, opts?: ExecOptions): Promise<Array<{ name: string; type: string }>> {
    return this.around({ method: 'describeFile', local: true }, () => this.inner.describeFile(path, format, opts));
  }

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult> {
    return this.around({ method: 'insertLocalSelect', table, columns, select, opts }, () => this.inner.insertLocalSelect(table, columns, select, opts));
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.around({ method: 'queryLocal', local: true }, () => this.inner.queryLocal<T>(sql, opts));
  }

  async close(): Promise<void> {
    if (this.ownsInner) await this.inner.close();
  }
}
