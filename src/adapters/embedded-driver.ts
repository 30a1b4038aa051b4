import { closeSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Session } from 'chdb';
import { KilnError } from '../errors.js';
import { describeFile, insertInto, withSettings, type Relation } from './ddl.js';
import type { Driver, ExecOptions, ExecResult, QueryResult } from './driver.js';
import { SqlError } from './sql-error.js';

const LOCK_FILE = 'kiln.lock';

/**
 * The in-process engine: a chdb Session on the target's data folder. One kiln process owns a
 * folder at a time (a lock file with its pid), since two processes writing one folder corrupt it.
 */
export class EmbeddedDriver implements Driver {
  readonly kind = 'embedded' as const;
  private readonly lockPath: string;

  private constructor(
    private readonly session: Session,
    readonly path: string,
  ) {
    this.lockPath = join(path, LOCK_FILE);
  }

  static open(path: string): EmbeddedDriver {
    mkdirSync(path, { recursive: true });
    acquireLock(join(path, LOCK_FILE));
    let session: Session;
    try {
      // 64-bit integers as JSON strings, as servers send them: a JS number would round them.
      session = new Session(path, { connectionArgs: ['--output_format_json_quote_64bit_integers=1'] });
    } catch (err) {
      releaseLock(join(path, LOCK_FILE));
      throw new KilnError('WAREHOUSE_UNREACHABLE', `cannot open the embedded warehouse at ${path}: ${(err as Error).message}`, {
        hint: 'check the folder is writable; delete it to start from scratch',
      });
    }
    return new EmbeddedDriver(session, path);
  }

  async execute(sql: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const queryId = opts.queryId ?? randomUUID();
    const text = withSettings(sql, opts.settings);
    try {
      const r = await this.session.queryAsync(text);
      return { elapsedMs: r.elapsed * 1000, queryId };
    } catch (err) {
      throw toSqlError(err, sql);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, opts: ExecOptions = {}): Promise<QueryResult<T>> {
    const queryId = opts.queryId ?? randomUUID();
    try {
      const r = await this.session.queryAsync(withSettings(sql, opts.settings), { format: 'JSONEachRow' });
      const text = r.text();
      const rows = text ? text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T) : [];
      return { rows, elapsedMs: r.elapsed * 1000, queryId };
    } catch (err) {
      throw toSqlError(err, sql);
    }
  }

  /** chdb cannot stream arbitrary formats, so the body goes through a temp file that ClickHouse reads. */
  async insertStream(
    table: Relation,
    body: Readable,
    format: string,
    opts: ExecOptions & { readonly columns?: readonly string[] } = {},
  ): Promise<ExecResult> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-insert-'));
    const file = join(dir, 'body');
    try {
      await pipeline(body, createWriteStream(file));
      return await this.execute(insertInto(table, opts.columns, { file, format }), opts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async insertFile(table: Relation, path: string, format: string, opts: ExecOptions & { readonly structure?: string } = {}): Promise<ExecResult> {
    return this.execute(insertInto(table, undefined, { file: path, format, ...(opts.structure ? { structure: opts.structure } : {}) }), opts);
  }

  async describeFile(path: string, format: string, opts: ExecOptions = {}): Promise<Array<{ name: string; type: string }>> {
    const r = await this.query<{ name: string; type: string }>(describeFile(path, format), opts);
    return r.rows.map(({ name, type }) => ({ name, type }));
  }

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.execute(insertInto(table, columns, { select }), opts);
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts: ExecOptions = {}): Promise<QueryResult<T>> {
    return this.query<T>(sql, opts);
  }

  async close(): Promise<void> {
    try {
      this.session.close();
    } finally {
      releaseLock(this.lockPath);
    }
  }
}

function toSqlError(err: unknown, sql: string): SqlError {
  const e = err as { message?: string; clickhouseCode?: number };
  return new SqlError(e.message ?? String(err), e.clickhouseCode, sql, err);
}

function acquireLock(lockPath: string): void {
  if (existsSync(lockPath)) {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new KilnError('WAREHOUSE_IN_USE', `the embedded warehouse ${lockPath.replace(/\/kiln\.lock$/, '')} is in use by pid ${pid}`, {
        hint: 'wait for the other kiln process (e.g. `kiln watch`) to finish, or stop it',
      });
    }
    unlinkSync(lockPath); // stale: its process is gone
  }
  const fd = openSync(lockPath, 'wx');
  writeSync(fd, String(process.pid));
  closeSync(fd);
}

function releaseLock(lockPath: string): void {
  try {
    if (Number.parseInt(readFileSync(lockPath, 'utf8'), 10) === process.pid) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
