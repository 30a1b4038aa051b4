import type { Readable } from 'node:stream';
import type { Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';

/**
 * A testing aid for crash-point sweeps: with `KILN_CRASH_AFTER=N` the process kills itself with
 * SIGKILL (a shell reports status 137) right after the Nth statement it sent has completed,
 * counted from 1 over the whole command and over every connection it opens. Nothing more is
 * printed and no cleanup runs, exactly as when an operator kills the process. A command that
 * sends fewer statements finishes normally. Unset, connect() does not wrap the driver at all.
 */
export function crashPointFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.KILN_CRASH_AFTER;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Statements sent by this process so far, over every driver: the sweep's clock. */
let sent = 0;

export class CrashPointDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly crashAfter: number,
  ) {}

  get kind(): Driver['kind'] {
    return this.inner.kind;
  }

  private async count<R>(run: Promise<R>): Promise<R> {
    const r = await run;
    sent += 1;
    if (sent >= this.crashAfter) process.kill(process.pid, 'SIGKILL');
    return r;
  }

  execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.count(this.inner.execute(sql, opts));
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.count(this.inner.query<T>(sql, opts));
  }

  insertStream(table: Relation, body: Readable, format: string, opts?: ExecOptions & { readonly columns?: readonly string[] }): Promise<ExecResult> {
    return this.count(this.inner.insertStream(table, body, format, opts));
  }

  insertFile(table: Relation, path: string, format: string, opts?: ExecOptions & { readonly structure?: string }): Promise<ExecResult> {
    return this.count(this.inner.insertFile(table, path, format, opts));
  }

  describeFile(path: string, format: string, opts?: ExecOptions): Promise<Array<{ name: string; type: string }>> {
    return this.count(this.inner.describeFile(path, format, opts));
  }

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult> {
    return this.count(this.inner.insertLocalSelect(table, columns, select, opts));
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.count(this.inner.queryLocal<T>(sql, opts));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
