import type { Readable } from 'node:stream';
import type { Relation } from './ddl.js';

export interface ExecOptions {
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** Shown in system.query_log; one per statement. */
  readonly queryId?: string;
}

/**
 * insertLocalSelect's options: `settings` are the SELECT's (the local engine's, reading files),
 * `insertSettings` the INSERT's on the target (a server's insert_quorum, …). The embedded engine
 * runs both as one statement, with both.
 */
export interface LocalSelectOptions extends ExecOptions {
  readonly insertSettings?: Readonly<Record<string, string | number | boolean>>;
}

export interface ExecResult {
  /** Time ClickHouse itself spent, in milliseconds (for overhead measurements). */
  readonly elapsedMs: number;
  readonly queryId: string;
}

export interface QueryResult<T> extends ExecResult {
  readonly rows: T[];
}

/**
 * A transport to ClickHouse: the only engine-specific part of the adapter. SQL text and
 * capabilities live in the adapter above it (kysely's dialect/driver split); the statements a
 * driver sends itself come from the builders in ddl.ts.
 */
export interface Driver {
  readonly kind: 'embedded' | 'clickhouse';
  /** Runs a statement that returns nothing useful (DDL, INSERT … SELECT). */
  execute(sql: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a SELECT and returns its rows (JSONEachRow). */
  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>>;
  /** `INSERT INTO table [(columns)] FORMAT format` with a streamed body; ClickHouse parses it. */
  insertStream(
    table: Relation,
    body: Readable,
    format: string,
    opts?: ExecOptions & { readonly columns?: readonly string[] },
  ): Promise<ExecResult>;
  /**
   * `INSERT INTO table` the rows of a local file in `format`. The embedded engine reads the file
   * itself (`file()`); a server gets it streamed over HTTP. `structure` is the file's columns as
   * ClickHouse DDL (`a String, b Int32`), needed where the engine cannot infer it.
   */
  insertFile(table: Relation, path: string, format: string, opts?: ExecOptions & { readonly structure?: string }): Promise<ExecResult>;
  /** The columns ClickHouse infers for a local file (schema inference). */
  describeFile(path: string, format: string, opts?: ExecOptions): Promise<Array<{ name: string; type: string }>>;
  /**
   * `INSERT INTO table (columns)` the rows of a SELECT over local files or table functions, run by
   * ClickHouse on this machine: the embedded engine inserts them itself; for a server the local
   * engine streams them to it (TabSeparated), so rows are never parsed in JavaScript.
   */
  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult>;
  /** A SELECT over local files, run by ClickHouse on this machine (small results only). */
  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>>;
  close(): Promise<void>;
}
