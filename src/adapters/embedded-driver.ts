import { createWriteStream, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { Session } from 'chdb';
import { KilnError } from '../errors.js';
import { describeFile, insertInto, withSettings, type Relation } from './ddl.js';
import { quoteString } from './quoting.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';
import { currentHolder, currentMachine, decodeHolder, encodeHolder, isProcessAlive, lockedMessage, LOCKED_HINT, type LockHolder } from './lock-holder.js';
import { SqlError } from './sql-error.js';

const LOCK_FILE = 'kiln.lock';

/**
 * The in-process engine: a chdb Session on the target's data folder. One kiln process owns a
 * folder at a time, for any command (chdb cannot share a folder between processes, even to
 * read): `kiln.lock` in the folder records the holder, and is the embedded target's run lock.
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

  /** `target` names the target in a refusal; `holder` is what this process records as the lock's holder. */
  static open(path: string, opts: { readonly target?: string; readonly holder?: LockHolder; readonly settings?: Readonly<Record<string, string | number | boolean>> } = {}): EmbeddedDriver {
    mkdirSync(path, { recursive: true });
    acquireFolderLock(path, opts.target ?? path, opts.holder ?? currentHolder('', randomUUID()));
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
    // The target's settings hold for the whole session, as the HTTP driver sends them with every query.
    for (const [name, value] of Object.entries(opts.settings ?? {})) {
      try {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`'${name}' is not a setting name`);
        session.query(`SET ${name} = ${typeof value === 'string' ? quoteString(value) : typeof value === 'boolean' ? Number(value) : Number(value)}`);
      } catch (err) {
        session.close();
        releaseLock(join(path, LOCK_FILE));
        throw new KilnError('TARGET_INVALID', `target setting '${name}' is refused by the embedded engine: ${firstLine((err as Error).message)}`, {
          hint: "check the name and value under the target's settings: (dbt profiles: custom_settings)",
        });
      }
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

  insertLocalSelect(table: Relation, columns: readonly string[], select: string, opts: LocalSelectOptions = {}): Promise<ExecResult> {
    const { insertSettings, ...rest } = opts;
    const settings = insertSettings ? { ...rest.settings, ...insertSettings } : rest.settings;
    return this.execute(insertInto(table, columns, { select }), { ...rest, ...(settings ? { settings } : {}) });
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

/** The embedded target's lock file in `folder`. */
export function folderLockPath(folder: string): string {
  return join(folder, LOCK_FILE);
}

/** Who holds the folder's lock (undefined: nobody, or an unreadable file). */
export function readFolderLock(folder: string): LockHolder | undefined {
  try {
    return decodeHolder(readFileSync(folderLockPath(folder), 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Takes the folder's lock for `holder`, or throws TARGET_LOCKED naming the live holder. The lock
 * file appears with its content in one step (written aside, then hard-linked into place: link
 * fails if the name exists), so no reader ever sees it empty. A holder whose pid is gone is
 * stale: its file is first linked to `kiln.lock.<pid>.stale` — that name can be taken once, so of
 * two processes taking over the same stale lock only one proceeds — and then removed.
 * Before removing the lock it checks the name it linked holds the content it judged stale, so a
 * process that read a stale lock, stalled, and linked a newer one leaves that one alone.
 * The residual: a process killed between its two links leaves `kiln.lock.<pid>.stale`, and later
 * takeovers of that lock give up reporting the dead holder until `kiln unlock` clears both.
 */
function acquireFolderLock(folder: string, target: string, holder: LockHolder): void {
  const lockPath = folderLockPath(folder);
  const mine = join(folder, `${LOCK_FILE}.${process.pid}.new`);
  writeFileSync(mine, encodeHolder({ ...holder, pid: process.pid, machine: currentMachine() }));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(mine, lockPath);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const text = readText(lockPath);
      if (text === undefined) continue; // released meanwhile
      const found = decodeHolder(text);
      if (found && found.pid !== process.pid && isProcessAlive(found.pid)) {
        throw new KilnError('TARGET_LOCKED', lockedMessage(target, found), {
          hint: `${LOCKED_HINT} (an embedded warehouse serves one kiln process at a time, reads included)`,
        });
      }
      // Stale (its process is gone), unreadable, or our own from an earlier open: take it over.
      const stale = `${lockPath}.${found?.pid ?? 'unknown'}.stale`;
      try {
        linkSync(lockPath, stale);
      } catch {
        continue; // another process is taking it over, or it went away: look again
      }
      if (readText(stale) === text) rmQuietly(lockPath);
      rmQuietly(stale);
    }
    throw new KilnError('TARGET_LOCKED', lockedMessage(target, decodeHolder(readText(lockPath) ?? '')), { hint: LOCKED_HINT });
  } finally {
    rmQuietly(mine);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function rmQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function releaseLock(lockPath: string): void {
  try {
    if (decodeHolder(readFileSync(lockPath, 'utf8'))?.pid === process.pid) unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
