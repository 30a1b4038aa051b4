import type { Readable } from 'node:stream';

/**
 * A transport to ClickHouse: the only engine-specific part of the adapter. SQL text and
 * capabilities live in the adapter above it (kysely's dialect/driver split).
 */
export interface ExecOptions {
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** Shown in system.query_log; one per statement. */
  readonly queryId?: string;
}

export interface ExecResult {
  /** Time ClickHouse itself spent, in milliseconds (for overhead measurements). */
  readonly elapsedMs: number;
  readonly queryId: string;
}

export interface QueryResult<T> extends ExecResult {
  readonly rows: T[];
}

export interface Driver {
  readonly kind: 'embedded' | 'clickhouse';
  /** Runs a statement that returns nothing useful (DDL, INSERT … SELECT). */
  execute(sql: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Runs a SELECT and returns its rows (JSONEachRow). */
  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>>;
  /** `INSERT INTO table [(columns)] FORMAT format` with a streamed body; ClickHouse parses it. */
  insertStream(
    table: string,
    body: Readable,
    format: string,
    opts?: ExecOptions & { readonly columns?: readonly string[] },
  ): Promise<ExecResult>;
  close(): Promise<void>;
}
