import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Adapter, ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { SqlError } from '../adapters/sql-error.js';
import * as mysqlSql from '../adapters/mysql-staging-sql.js';
import * as sql from '../adapters/staging-sql.js';
import type { LoadStamp } from '../adapters/staging-sql.js';
import type { MySqlConnection } from '../adapters/mysql-staging-sql.js';
import { KilnError } from '../errors.js';
import { closestName } from '../project/closest.js';
import { checkRawLayout, swapShardedWhole } from './sharded-raw.js';
import { beforeRawChange } from './view-invalidation.js';
import { fingerprintFile } from './fingerprint.js';
import { settleRefresh, writeLedger } from './ledger.js';
import { describeConnection, type MySqlTable } from './source-options.js';
import { dropQuietly, scratchRelation, type StageContext, type TableLoad } from './stage-context.js';

const CONNECTION_FAILED = 279;
const UNKNOWN_TABLE = 60;

/**
 * Checks before anything runs (so a bad source is exit 2, nothing executed): a live table is
 * reachable and exists; a dump file exists and holds the table.
 */
export async function preflightMySql(adapter: Adapter, table: MySqlTable, dumps: DumpFiles): Promise<void> {
  const src = table.source;
  if (src.kind === 'live') {
    const c = src.connection;
    const where = describeConnection(c);
    const ask = askMySql(adapter);
    try {
      await ask(mysqlSql.mysqlProbe(c, table.mysqlTable));
    } catch (err) {
      const code = err instanceof SqlError ? err.clickhouseCode : undefined;
      const text = redact((err as Error).message, c.password);
      if (code === UNKNOWN_TABLE || /doesn't exist/.test(text)) {
        const names = await ask<{ name: string }>(mysqlSql.mysqlTableNames(c)).then((r) => r.rows.map((x) => x.name)).catch(() => []);
        throw missingTable(table, `MySQL database ${where}`, names);
      }
      throw unreachable(table, c, text);
    }
    return;
  }
  assertDumpExists(table, src.dump);
  const names = await dumps.tables(adapter, src.dump);
  if (!names.includes(table.mysqlTable)) throw missingTable(table, `dump ${src.dump}`, names);
}

/**
 * The tables of the database a source reads, live or in its dump, for a source without `tables:`
 * (`table` is any table of it). Unreachable MySQL or a missing dump is exit 2, as in the preflight.
 */
export async function listMySqlTables(adapter: Adapter, table: MySqlTable, dumps: DumpFiles): Promise<string[]> {
  const src = table.source;
  if (src.kind === 'dump') {
    assertDumpExists(table, src.dump);
    return dumps.tables(adapter, src.dump);
  }
  try {
    const r = await askMySql(adapter)<{ name: string }>(mysqlSql.mysqlBaseTableNames(src.connection));
    return r.rows.map((x) => x.name);
  } catch (err) {
    throw unreachable(table, src.connection, redact((err as Error).message, src.connection.password));
  }
}

function assertDumpExists(table: MySqlTable, dump: string): void {
  if (!existsSync(dump) || !statSync(dump).isFile()) {
    throw new KilnError('SOURCE_MISSING', `source ${table.sourceName}: dump file ${dump} does not exist`, {
      location: table.location,
      hint: 'check dump: (relative to the project folder; a var() in it is set with --vars), or set MYSQL_HOST to read the live database',
    });
  }
}

function unreachable(table: MySqlTable, c: MySqlConnection, redactedText: string): KilnError {
  return new KilnError('SOURCE_UNREACHABLE', `source ${table.sourceName}: cannot read MySQL at ${c.host}:${c.port} as user '${c.user}': ${mysqlReason(redactedText)}`, {
    location: table.location,
    hint: 'check MYSQL_HOST/MYSQL_PORT/MYSQL_USER/MYSQL_PASSWORD (the connection: of the source) and that the server is up',
  });
}

/** Queries that read live MySQL, asked where the rows are pulled (see pullsLocally). */
function askMySql(adapter: Adapter): Adapter['query'] {
  return pullsLocally(adapter) ? adapter.queryLocal.bind(adapter) : adapter.query.bind(adapter);
}

/** Where the server's own mysql() would lose NULLs, ClickHouse in this process pulls the rows. */
function pullsLocally(adapter: Adapter): boolean {
  return adapter.driver.kind !== 'embedded' && !adapter.capabilities.mysqlTableNulls;
}

function missingTable(table: MySqlTable, where: string, names: readonly string[]): KilnError {
  const near = closestName(table.mysqlTable, names);
  return new KilnError('SOURCE_MISSING', `source ${table.sourceName}: table '${table.mysqlTable}' is not in the ${where}`, {
    location: table.location,
    hint: `${near ? `did you mean '${near}'? ` : ''}tables there: ${names.length ? names.join(', ') : '(none)'}`,
  });
}

function mysqlReason(text: string): string {
  const m = /ERROR \d+ : mysqlxx::ConnectionFailed: ([^(]*)/.exec(text) ?? /ConnectionFailed: ([^\n(]*)/.exec(text);
  return (m?.[1] ?? text.split('\n')[0] ?? text).trim();
}

function redact(text: string, secret: string): string {
  return secret ? text.replaceAll(secret, '***') : text;
}

/**
 * A live table: ClickHouse pulls the rows with mysql(). Without incremental_key the table is
 * reloaded whole into a scratch table and swapped in; with it, only rows past the highest key
 * already staged are appended, in key order so a cut-short load resumes where it stopped.
 *
 * Exactly once, the orders (a full refresh first settles as settleRefresh in ledger.ts says):
 * - Whole: CREATE scratch, INSERT the rows into it, swap it in (one EXCHANGE or one RENAME of
 *   both), DROP what the swap left, ledger `loaded`. Killed before the swap, the raw table is
 *   untouched and the scratch a leftover the next run drops; after it, the table is complete and
 *   the next run rebuilds it the same way (a whole load never depends on the ledger).
 * - Incremental: read max(key), INSERT the rows past it, ledger `loaded` with the table's row
 *   count. Killed after the INSERT, the next run finds nothing past the new maximum: it appends
 *   nothing and writes the same entry, since the entry counts the table, not the run.
 */
export async function loadLiveTable(ctx: StageContext, table: MySqlTable): Promise<TableLoad> {
  const { adapter } = ctx;
  if (table.source.kind !== 'live') throw new Error('not a live table');
  const { connection: c, incrementalKey } = table.source;
  const target = table.relation;
  const label = describeConnection(c, table.mysqlTable);
  try {
    if (ctx.fullRefresh) await beforeRawChange(ctx, target, 'replace');
    await settleRefresh(adapter, table, ctx.fullRefresh, ctx.stamp);
    await checkRawLayout(adapter, table);
    const exists = (await adapter.columns(target)).length > 0;
    if (incrementalKey && exists) {
      const r = await adapter.query<{ m: string | number | null; n: string | number }>(
        mysqlSql.maxKeyAndCount(target, incrementalKey),
      );
      const after = Number(r.rows[0]?.n ?? 0) > 0 ? String(r.rows[0]!.m) : null;
      const before = await adapter.countRows(target);
      const select = mysqlSql.mysqlSelect(c, table.mysqlTable, ctx.stamp, { key: incrementalKey, after });
      await beforeRawChange(ctx, target, 'append');
      if (pullsLocally(adapter)) await adapter.insertLocalSelect(target, (await adapter.columns(target)).map((col) => col.name), select);
      else await adapter.execute(ddl.insertSelect(target, select));
      const total = await adapter.countRows(target);
      await writeLedger(adapter, table, { file: label, size: 0, fingerprint: '', rows: total, rejected: 0, status: 'loaded' }, ctx.stamp);
      return { files: 0, skipped: 0, rows: total - before, rejected: 0 };
    }
    const select = mysqlSql.mysqlSelect(c, table.mysqlTable, ctx.stamp, incrementalKey ? { key: incrementalKey, after: null } : undefined);
    const rows = await buildAndSwap(ctx, target, select, { local: pullsLocally(adapter), shardingKey: table.shardingKey });
    await writeLedger(adapter, table, { file: label, size: 0, fingerprint: '', rows, rejected: 0, status: 'loaded' }, ctx.stamp);
    return { files: 0, skipped: 0, rows, rejected: 0 };
  } catch (err) {
    if (err instanceof KilnError) throw new KilnError(err.code, redact(err.message, c.password), { ...(err.hint ? { hint: err.hint } : {}), location: table.location });
    throw err;
  }
}

/**
 * A fresh table from `select` (table types from the first rows), swapped in atomically. A sharded
 * table (`shardingKey`) is read into a scratch table that holds rows on kiln's node only (created
 * ON CLUSTER but not replicated: it is read once, to go through the Distributed table; on every
 * node, so a killed run's is seen and dropped by the next run from any node) and published by
 * swapShardedWhole.
 */
async function buildAndSwap(ctx: StageContext, target: ddl.Relation, select: string, opts: { local?: boolean; settings?: Record<string, string | number>; shardingKey?: string | undefined } = {}): Promise<number> {
  const { adapter } = ctx;
  const temp = scratchRelation(target, ctx.runId, 'full');
  const old = scratchRelation(target, ctx.runId, 'old');
  await dropQuietly(adapter, temp);
  const d = opts.shardingKey === undefined ? adapter.ddl : { ...adapter.ddl, replication: undefined };
  try {
    if (opts.local) {
      const types = await adapter.queryLocal<{ name: string; type: string }>(ddl.describeSelect(select), opts.settings ? { settings: opts.settings } : {});
      await adapter.execute(sql.createStagingTable(d, temp, types.rows.map((c) => ({ name: c.name, type: adapter.portableType(c.type) })), false));
      await adapter.insertLocalSelect(temp, types.rows.map((c) => c.name), select, opts.settings ? { settings: opts.settings } : {});
    } else {
      await adapter.execute(ddl.createTableLike(d, temp, select, {}));
      await adapter.execute(ddl.insertSelect(temp, select), opts.settings ? { settings: opts.settings } : {});
    }
    if (opts.shardingKey !== undefined) return await swapShardedWhole(ctx, target, opts.shardingKey, temp);
    const rows = await adapter.countRows(temp);
    const targetExists = (await adapter.columns(target)).length > 0;
    if (targetExists) await beforeRawChange(ctx, target, 'replace');
    await adapter.swap(temp, target, { targetExists, old });
    return rows;
  } finally {
    await dropQuietly(adapter, temp);
    await dropQuietly(adapter, old);
  }
}

/**
 * A table of a dump file: loaded whole when the dump is new or changed (the ledger remembers the
 * dump's fingerprint per table), with the column types of the dump's CREATE TABLE. Exactly once
 * as a whole live table (above): built in scratch, swapped in, then ledger `loaded`; killed
 * before the entry, the next run finds the dump not loaded and rebuilds the same table.
 */
export async function loadDumpTable(ctx: StageContext, table: MySqlTable, dumps: DumpFiles): Promise<TableLoad> {
  const { adapter } = ctx;
  if (table.source.kind !== 'dump') throw new Error('not a dump table');
  const dump = table.source.dump;
  const { size, fingerprint } = fingerprintFile(dump);
  if (ctx.fullRefresh) await beforeRawChange(ctx, table.relation, 'replace');
  const prior = (await settleRefresh(adapter, table, ctx.fullRefresh, ctx.stamp)).files.get(dump);
  await checkRawLayout(adapter, table);
  const exists = (await adapter.columns(table.relation)).length > 0;
  if (exists && prior?.status === 'loaded' && prior.fingerprint === fingerprint) return { files: 1, skipped: 1, rows: 0, rejected: 0 };
  const read = await dumpRead(adapter, table, dump, dumps, ctx.stamp);
  const rows = await buildAndSwap(ctx, table.relation, read.select, { local: true, shardingKey: table.shardingKey, ...(read.settings ? { settings: read.settings } : {}) });
  await writeLedger(adapter, table, { file: dump, size, fingerprint, rows, rejected: 0, status: 'loaded' }, ctx.stamp);
  return { files: 1, skipped: 0, rows, rejected: 0 };
}

/** The SELECT (run by the local engine) that reads one table of a dump, with its types. */
async function dumpRead(adapter: Adapter, table: MySqlTable, dump: string, dumps: DumpFiles, stamp: LoadStamp): Promise<{ select: string; settings?: Record<string, string | number> }> {
  const settings = mysqlSql.dumpSettings(table.mysqlTable);
  if (await dumps.isEmpty(adapter, dump, table.mysqlTable)) {
    // ClickHouse does not describe a table without INSERTs: its CREATE TABLE alone gives the columns.
    const described = await adapter.queryLocal<{ name: string; type: string }>(mysqlSql.describeDumpTable(await dumps.emptyTable(dump, table.mysqlTable)), { settings });
    return { select: mysqlSql.emptyTableSelect(described.rows, stamp) };
  }
  const readable = await dumps.readable(adapter, dump, table.mysqlTable);
  const described = await adapter.queryLocal<{ name: string; type: string }>(mysqlSql.describeDumpTable(readable), { settings });
  return mysqlSql.dumpSelect(readable, table.mysqlTable, described.rows, stamp);
}

/**
 * The columns a MySQL table's raw table is created with when staging first loads it, described
 * without creating anything (validation before any change). Reads the dump's schema or asks the
 * live server, as staging would.
 */
export async function plannedMySqlColumns(adapter: Adapter, table: MySqlTable, dumps: DumpFiles, stamp: LoadStamp): Promise<ColumnInfo[]> {
  const src = table.source;
  if (src.kind === 'dump') {
    assertDumpExists(table, src.dump);
    const read = await dumpRead(adapter, table, src.dump, dumps, stamp);
    const r = await adapter.queryLocal<{ name: string; type: string }>(ddl.describeSelect(read.select), read.settings ? { settings: read.settings } : {});
    return r.rows.map((c) => ({ name: c.name, type: adapter.portableType(c.type) }));
  }
  const select = mysqlSql.mysqlSelect(src.connection, table.mysqlTable, stamp, src.incrementalKey ? { key: src.incrementalKey, after: null } : undefined);
  if (pullsLocally(adapter)) {
    const r = await adapter.queryLocal<{ name: string; type: string }>(ddl.describeSelect(select));
    return r.rows.map((c) => ({ name: c.name, type: adapter.portableType(c.type) }));
  }
  return (await adapter.query<{ name: string; type: string }>(ddl.describeSelect(select))).rows;
}

/**
 * Dump files shared by the tables of one invocation. ClickHouse's MySQLDump reader reads its own
 * table's one-row-per-line INSERTs (mariadb-dump's: a row starting a line after `VALUES` or `),`)
 * but stumbles over another table's, which it passes on its way through the file. A dump where
 * another table has them is rewritten once into a temp file with those rows joined; a newline
 * never occurs inside a dumped value (it is written `\n`), so joining at these line breaks is safe.
 */
export class DumpFiles {
  private readonly normalized = new Map<string, Promise<string>>();
  /** Per dump: table name → whether an INSERT fills it, and whether its rows sit on lines of their own. */
  private readonly contents = new Map<string, Promise<Map<string, { hasRows: boolean; rowsOnLines: boolean }>>>();
  private readonly empties = new Map<string, Promise<string>>();
  private dir: string | null = null;
  private files = 0;

  /** The tables the dump creates, sorted by name. */
  async tables(adapter: Adapter, dump: string): Promise<string[]> {
    return [...(await this.contentsOf(adapter, dump)).keys()];
  }

  /** True for a table the dump creates but holds no rows of. */
  async isEmpty(adapter: Adapter, dump: string, table: string): Promise<boolean> {
    return (await this.contentsOf(adapter, dump)).get(table)?.hasRows === false;
  }

  private contentsOf(adapter: Adapter, dump: string): Promise<Map<string, { hasRows: boolean; rowsOnLines: boolean }>> {
    let p = this.contents.get(dump);
    if (!p) {
      p = adapter
        .queryLocal<{ name: string; has_rows: number | string; rows_on_lines: number | string }>(mysqlSql.dumpTables(dump))
        .then((r) => new Map(r.rows.map((x) => [x.name, { hasRows: Number(x.has_rows) > 0, rowsOnLines: Number(x.rows_on_lines) > 0 }])));
      this.contents.set(dump, p);
    }
    return p;
  }

  /** The file ClickHouse reads `table` from: the dump itself, or its rewrite with rows joined. */
  async readable(adapter: Adapter, dump: string, table: string): Promise<string> {
    const others = [...(await this.contentsOf(adapter, dump))].filter(([name]) => name !== table);
    if (!others.some(([, t]) => t.rowsOnLines)) return dump;
    let p = this.normalized.get(dump);
    if (!p) {
      const out = this.tempFile();
      p = pipeline(createReadStream(dump, { highWaterMark: 1 << 20 }), new JoinRowLines(), createWriteStream(out)).then(() => out);
      this.normalized.set(dump, p);
    }
    return p;
  }

  /** A one-table dump of an empty table (see emptyTableDump), to describe its columns. */
  emptyTable(dump: string, table: string): Promise<string> {
    const key = `${dump}\u0000${table}`;
    let p = this.empties.get(key);
    if (!p) {
      const out = this.tempFile();
      p = createTableOf(dump, table).then((create) => {
        writeFileSync(out, Buffer.from(mysqlSql.emptyTableDump(table, create), 'latin1'));
        return out;
      });
      this.empties.set(key, p);
    }
    return p;
  }

  private tempFile(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'kiln-dump-'));
    return join(this.dir, `${this.files++}.sql`);
  }

  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
    this.normalized.clear();
    this.empties.clear();
  }
}

/**
 * A table's CREATE TABLE statement in a dump: schema text, read line by line up to its end (lines
 * before it are skipped, never parsed). Read as latin1, which maps bytes 1:1, so the statement is
 * written back byte for byte.
 */
async function createTableOf(dump: string, table: string): Promise<string> {
  const start = Buffer.from(mysqlSql.dumpCreateTableStart(table), 'utf8').toString('latin1');
  const input = createReadStream(dump, { encoding: 'latin1' });
  const lines: string[] = [];
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (lines.length === 0 && !line.startsWith(start)) continue;
      lines.push(line);
      // Column lines end with a comma; the last one, `) ENGINE=…;`, with the statement's semicolon.
      if (line.endsWith(';')) break;
    }
  } finally {
    input.destroy();
  }
  return lines.join('\n');
}

/**
 * Turns the newline of `VALUES\n(` and `),\n(` into a space, byte for byte otherwise: the bytes
 * keep their length, so each chunk is rewritten in place (no copy, no text decoding). A newline
 * that ends a chunk waits for the next chunk's first byte.
 */
export class JoinRowLines extends Transform {
  /** The last bytes passed on (a few): what precedes a newline at the start of a chunk. */
  private tail = Buffer.alloc(0);
  private heldNewline = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (chunk.length === 0) return done();
    if (this.heldNewline) {
      this.heldNewline = false;
      this.pass(Buffer.from([chunk[0] === OPEN && breaksRow(this.tail, this.tail.length) ? SPACE : NEWLINE]));
    }
    for (let i = chunk.indexOf(NEWLINE), end = chunk.length - 1; i >= 0 && i < end; i = chunk.indexOf(NEWLINE, i + 1)) {
      if (chunk[i + 1] !== OPEN) continue;
      const rowBreak = i >= CONTEXT ? breaksRow(chunk, i) : breaksRow(Buffer.concat([this.tail, chunk.subarray(0, i)]), this.tail.length + i);
      if (rowBreak) chunk[i] = SPACE;
    }
    if (chunk[chunk.length - 1] === NEWLINE) {
      this.heldNewline = true;
      chunk = chunk.subarray(0, chunk.length - 1);
    }
    this.pass(chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.heldNewline) this.push(Buffer.from([NEWLINE]));
    done();
  }

  private pass(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.push(bytes);
    const last = bytes.length >= CONTEXT ? bytes.subarray(bytes.length - CONTEXT) : Buffer.concat([this.tail, bytes]).subarray(-CONTEXT);
    this.tail = Buffer.from(last);
  }
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const COMMA = 0x2c;
const OPEN = 0x28;
const CLOSE = 0x29;
const VALUES = Buffer.from(' VALUES');
const CONTEXT = VALUES.length;

/** Whether the newline at `nl` (before a `(`) follows `),` or ` VALUES`. */
function breaksRow(buf: Buffer, nl: number): boolean {
  if (buf[nl - 1] === COMMA) return buf[nl - 2] === CLOSE;
  return nl >= VALUES.length && buf.compare(VALUES, 0, VALUES.length, nl - VALUES.length, nl) === 0;
}
