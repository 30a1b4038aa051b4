import { closeSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { Adapter, ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import * as fileSql from '../adapters/file-read-sql.js';
import * as sql from '../adapters/staging-sql.js';
import { KilnError } from '../errors.js';
import { fingerprintFile } from './fingerprint.js';
import { JsonlStream } from './jsonl-stream.js';
import { quarantineOf, relayout, settleRefresh, writeLedger, type TableLedger } from './ledger.js';
import type { FileTable } from './source-options.js';
import { checkRawLayout, createShardedRaw, replaceShardedFile } from './sharded-raw.js';
import { beforeRawChange, viewsFiredBy } from './view-invalidation.js';
import { dropQuietly, scratchRelation, type StageContext, type TableLoad } from './stage-context.js';

/**
 * CSV and JSON-lines tables, exactly once under crashes. A file is its real path (symlinks
 * resolved, one device/inode loaded once); the raw table is partitioned by `_kiln_file` and the
 * quarantine by (source_name, table_name, file), so one file's rows and rejects are one partition
 * each. Every state change is a sequence of statements each of which gives the same result however
 * often it runs, with the ledger entry that makes the change count written last; so a run killed
 * between any two statements leaves a state the next run (the same command, or a plain `stage`)
 * finishes. The orders:
 *
 * Loading a file (new, changed, or left `started` by a killed run):
 *   1. ledger `started`;
 *   2. CREATE the scratch rows and rejects tables (this run's names, defaults stamping the file);
 *   3. ClickHouse reads the file into them (good records, then rejects if any are missing);
 *   4. REPLACE PARTITION <file> of the raw table FROM the rows table (DROP PARTITION when the file
 *      has no good rows): one atomic statement, so a reader sees the file's old rows or its new
 *      ones, never neither and never both;
 *      (a new file's rows go in by INSERT instead when materialized views read the table: below;
 *      and a materialized_view model built from the table that this statement reaches by none of
 *      its views has its views dropped just before it, so staging rebuilds it: view-invalidation.ts);
 *   5. the same for the file's quarantine partition from the rejects table;
 *   6. ledger `loaded` with the fingerprint;
 *   7. DROP the scratch tables.
 *   Killed before 6, the file is not `loaded` with this fingerprint, so the next run loads it
 *   again and 4–5 replace whatever an earlier attempt put there (never appending). Killed after 6,
 *   only scratch tables are left, which the next run's warehouse preparation drops.
 * Pruning a vanished file (`--prune`): DROP PARTITION <file> of the raw table, then of the
 *   quarantine, then ledger `pruned`. Dropping a partition that is gone is no error, and until
 *   `pruned` is written the file still counts as staged, so a rerun drops again and finishes.
 * Full refresh: see settleRefresh (ledger.ts). A raw table made before per-file partitions is
 *   rebuilt with them first: see relayout (ledger.ts).
 *
 * A sharded raw table (sharding_key on a cluster target) takes step 4 as two statements: DROP
 * PARTITION <file> ON CLUSTER (every shard; only when the ledger knows the file, so a new file
 * costs no cluster statement), then one quorum INSERT through the Distributed table. A kill
 * between them, or in the INSERT with some shards written, leaves the file `started`: the next
 * run drops and inserts again. See sharded-raw.ts.
 *
 * JSON lines bound for a server skip the local engine: their bytes stream to the server, which
 * parses them (jsonl-stream.ts).
 */
export async function loadFileTable(ctx: StageContext, table: FileTable): Promise<TableLoad> {
  const { adapter } = ctx;
  if (ctx.fullRefresh) await beforeRawChange(ctx, table.relation, 'replace');
  const ledger = await settleRefresh(adapter, table, ctx.fullRefresh, ctx.stamp);
  await checkRawLayout(adapter, table);
  // A sharded raw table is made with per-file partitions: nothing to relayout.
  if (table.shardingKey === undefined) await relayout(adapter, table.relation, sql.FILE_PARTITION_KEY, 'relayout');
  const files = await listFiles(table.path, new Set(ledger.files.keys()));
  await vanishedFiles(ctx, table, ledger, files);
  if (files.length === 0) {
    const message = `${table.path} matches no file`;
    if (table.required) {
      throw new KilnError('STAGE_FAILED', `source ${table.sourceName}.${table.tableName}: ${message}`, {
        location: table.location,
        hint: 'check path: (relative to the project folder; a var() in it is set with --vars), or drop required: true',
      });
    }
    ctx.warn({ message: `source ${table.sourceName}.${table.tableName}: ${message}`, location: table.location, hint: 'check path: (relative to the project folder; a var() in it is set with --vars)' });
    return { files: 0, skipped: 0, rows: 0, rejected: 0 };
  }
  const columns = fileColumns(table, files);
  const rawColumns = await ensureRawTable(adapter, table, [...columns, ...sql.fileMetaColumns(files.some(isLarge))]);
  const narrowLines = rawColumns.find((c) => c.name === '_kiln_line')?.type === 'UInt32';

  const todo = files.filter((f) => {
    const prior = ledger.files.get(f);
    return !(prior?.status === 'loaded' && prior.fingerprint === fingerprintOf(f, table).fingerprint);
  });
  const load: { files: number; skipped: number; rows: number; rejected: number } = { files: files.length, skipped: files.length - todo.length, rows: 0, rejected: 0 };
  if (todo.length === 0) return load;

  const rows = scratchRelation(table.relation, ctx.runId, 'rows');
  const rejects = scratchRelation(table.relation, ctx.runId, 'rejects');
  const quarantine = quarantineOf(table.relation.database);
  // A server gets JSON lines as bytes and parses them itself; the rest is read by the local engine.
  const stream = JsonlStream.fits(ctx, table) ? new JsonlStream(ctx, table, rows, rejects, rawColumns) : null;
  // Dropped in `finally` when a file's load fails; after a file is done its own are dropped.
  const scratch = new Set([...(stream ? stream.scratch : []), rows, rejects]);
  const d = adapter.ddl;
  // Materialized views on the raw table see only INSERTs: a new file's rows are inserted for them.
  const fired = await viewsFiredBy(adapter, table.relation);
  const feedsViews = fired.size > 0;
  // Views kiln does not rebuild after a replace (not of a model built from this source).
  const foreign = [...fired].filter((v) => !ctx.fedModels.some((m) => m.views.some((mv) => ddl.rel(mv) === v)));
  try {
    if (stream) await stream.create();
    for (const file of todo) {
      const { size, fingerprint } = fingerprintOf(file, table);
      if (narrowLines && size >= sql.LARGE_FILE_BYTES) {
        throw new KilnError('STAGE_FAILED', `${file}: 4 GiB or more, it may hold more lines than ${ddl.rel(table.relation)} numbers (UInt32 _kiln_line)`, {
          location: table.location,
          hint: 'run kiln stage --full-refresh: the raw table is rebuilt with UInt64 line numbers',
        });
      }
      await writeLedger(adapter, table, { file, size, fingerprint, rows: 0, rejected: 0, status: 'started' }, ctx.stamp);
      scratch.add(rows).add(rejects);
      // Made per file: their defaults stamp the file, and a partition key column's default cannot be altered.
      await adapter.execute(sql.createStagingTable(d, rows, sql.withStampDefaults(rawColumns, ctx.stamp, file), false, sql.FILE_PARTITION_KEY));
      await adapter.execute(sql.createStagingTable(d, rejects, sql.rejectsColumns(table.sourceName, table.tableName, ctx.stamp, file), false, sql.QUARANTINE_PARTITION_KEY));
      const header = table.loader === 'csv' ? csvHeader(file, table) : [];
      if (size === 0 || header === null) {
        ctx.warn({ message: `source ${table.sourceName}.${table.tableName}: ${displayPath(table, file)} is empty`, location: table.location });
      } else if (stream) {
        await stream.load(file);
      } else {
        const read = table.loader === 'jsonl' ? fileSql.jsonlRead(file, table.columns) : await csvReadOf(adapter, file, table, columns, header);
        await readRecords(adapter, read, columns, rows, rejects);
      }
      const loaded = await adapter.countRows(rows);
      const rejected = await adapter.countRows(rejects);
      const rawPart = sql.filePartition(file);
      const quarantinePart = sql.quarantinePartition(table.sourceName, table.tableName, file);
      const prior = ledger.files.get(file);
      const warnForeign = () => {
        if (foreign.length > 0 && prior?.status === 'loaded' && prior.fingerprint !== fingerprint) {
          ctx.warn({
            message: `source ${table.sourceName}.${table.tableName}: ${displayPath(table, file)} changed; the materialized views ${foreign.join(', ')} reading ${ddl.rel(table.relation)} keep what its earlier rows added`,
            location: table.location,
            hint: 'rebuild the models they feed with kiln run --select <model> --full-refresh',
          });
        }
      };
      if (table.shardingKey !== undefined) {
        const hadRows = prior !== undefined && prior.status !== 'pruned';
        await beforeRawChange(ctx, table.relation, hadRows ? 'replace' : 'append');
        await replaceShardedFile(adapter, table.relation, file, rows, rawColumns.map((c) => c.name), { hadRows, loaded });
        warnForeign();
      } else if (loaded > 0 && feedsViews && (await countOf(adapter, sql.fileRowCount(table.relation, file))) === 0) {
        // An INSERT, so the materialized views on the raw table see the file's rows (partition
        // operations do not fire them); the partition was empty, so it is as atomic as the REPLACE.
        await beforeRawChange(ctx, table.relation, 'append');
        await adapter.execute(ddl.insertSelectColumns(table.relation, ddl.selectAll(rows), rawColumns.map((c) => c.name)));
      } else {
        await beforeRawChange(ctx, table.relation, 'replace');
        await adapter.execute(loaded > 0 ? sql.replacePartition(d, table.relation, rawPart, rows) : sql.dropPartition(d, table.relation, rawPart));
        warnForeign();
      }
      await adapter.execute(rejected > 0 ? sql.replacePartition(d, quarantine, quarantinePart, rejects) : sql.dropPartition(d, quarantine, quarantinePart));
      await writeLedger(adapter, table, { file, size, fingerprint, rows: loaded, rejected, status: 'loaded' }, ctx.stamp);
      for (const r of [rows, rejects]) {
        await adapter.execute(ddl.dropRelation(d, r));
        scratch.delete(r);
      }
      load.rows += loaded;
      load.rejected += rejected;
    }
  } finally {
    for (const r of scratch) await dropQuietly(adapter, r);
  }
  return load;
}

/**
 * Files the ledger has staged (loaded, or begun by a killed run) that the path no longer
 * matches: a warning each, or with `--prune` their rows and rejects removed (order in the file
 * comment above).
 */
async function vanishedFiles(ctx: StageContext, table: FileTable, ledger: TableLedger, files: readonly string[]): Promise<void> {
  const present = new Set(files);
  const gone = [...ledger.files].filter(([file, e]) => !present.has(file) && (e.status === 'loaded' || e.status === 'started'));
  if (gone.length === 0) return;
  const { adapter } = ctx;
  const name = `source ${table.sourceName}.${table.tableName}`;
  if (!ctx.prune) {
    for (const [file, e] of gone) {
      ctx.warn({
        message: `${name}: ${displayPath(table, file)} was staged (${e.rows.toLocaleString('en-US')} row${e.rows === 1 ? '' : 's'}) but is gone; kiln stage --prune removes its rows`,
        location: table.location,
      });
    }
    return;
  }
  const d = adapter.ddl;
  const rawExists = (await adapter.columns(table.relation)).length > 0;
  if (rawExists) await beforeRawChange(ctx, table.relation, 'replace');
  for (const [file] of gone) {
    if (rawExists) {
      const part = sql.filePartition(file);
      await adapter.execute(table.shardingKey !== undefined ? sql.dropShardedPartition(d, table.relation, part) : sql.dropPartition(d, table.relation, part));
    }
    await adapter.execute(sql.dropPartition(d, quarantineOf(table.relation.database), sql.quarantinePartition(table.sourceName, table.tableName, file)));
    await writeLedger(adapter, table, { file, size: 0, fingerprint: '', rows: 0, rejected: 0, status: 'pruned' }, ctx.stamp);
    ctx.info(`${name}: pruned ${displayPath(table, file)}`);
  }
}

/** A file as messages name it: relative to the project when inside it. */
function displayPath(table: FileTable, file: string): string {
  const r = relative(table.root, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
}

/**
 * One file through ClickHouse on this machine: good records into `rows`; then, only if they are
 * fewer than the file's records (an upper bound ClickHouse counts without parsing), the file is
 * read again for its rejects.
 */
async function readRecords(adapter: Adapter, read: fileSql.RecordsRead, columns: readonly sql.StagedColumn[], rows: Relation, rejects: Relation): Promise<void> {
  const opts = { settings: read.settings };
  await adapter.insertLocalSelect(rows, [...columns.map((c) => c.name), '_kiln_line'], fileSql.goodRows(read, columns), opts);
  const loaded = await adapter.countRows(rows);
  const records = Number((await adapter.queryLocal<{ n: number | string }>(read.count, opts)).rows[0]?.n ?? 0);
  if (loaded < records) await adapter.insertLocalSelect(rejects, fileSql.REJECT_COLUMNS, fileSql.rejectedRows(read), opts);
}

/**
 * The files a path or glob names, each once: by its real path, and by device and inode where the
 * platform gives them, so a symlink to an ancestor folder (a loop) or a second link to a file
 * adds nothing. Of several paths to one file, the one the ledger knows (`known`) stands for it,
 * else the first; sorted. A dangling link is no file.
 */
export async function listFiles(pattern: string, known: ReadonlySet<string> = new Set()): Promise<string[]> {
  const found = isDynamicPattern(pattern) ? await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false }) : [pattern];
  const byIdentity = new Map<string, string>();
  for (const path of found.sort()) {
    let real: string;
    let st: Stats;
    try {
      real = realpathSync(path);
      st = statSync(real);
    } catch {
      continue;
    }
    if (!st.isFile()) continue;
    const identity = st.ino ? `${st.dev}:${st.ino}` : real;
    const chosen = byIdentity.get(identity);
    if (chosen === undefined || (!known.has(chosen) && known.has(real))) byIdentity.set(identity, real);
  }
  return [...new Set(byIdentity.values())].sort();
}

const isLarge = (f: string) => (statSync(f, { throwIfNoEntry: false })?.size ?? 0) >= sql.LARGE_FILE_BYTES;

/** A file table's data columns: declared, else `raw` for JSON lines, else the first CSV header's. */
function fileColumns(table: FileTable, files: readonly string[]): readonly sql.StagedColumn[] {
  return table.columns ?? (table.loader === 'jsonl' ? [{ name: 'raw', type: 'String' }] : headerColumns(firstHeader(files, table)));
}

/**
 * The columns a file table's raw table is created with when staging first meets it, computed
 * without creating it (validation before any change); undefined when no file matches yet.
 */
export async function plannedFileColumns(adapter: Adapter, table: FileTable): Promise<ColumnInfo[] | undefined> {
  const files = await listFiles(table.path);
  if (files.length === 0) return undefined;
  return [...fileColumns(table, files), ...sql.fileMetaColumns(files.some(isLarge))].map((c) => ({ name: c.name, type: adapter.portableType(c.type) }));
}

/** The raw table's columns as the warehouse has them, the table created first if missing. */
async function ensureRawTable(adapter: Adapter, table: FileTable, columns: readonly sql.StagedColumn[]): Promise<sql.StagedColumn[]> {
  const existing = await adapter.columns(table.relation);
  if (existing.length === 0 && table.shardingKey !== undefined) {
    await createShardedRaw(adapter, { ...table, shardingKey: table.shardingKey }, columns.map((c) => ({ name: c.name, type: adapter.portableType(c.type) })));
    return adapter.columns(table.relation);
  }
  if (existing.length === 0) {
    await adapter.execute(sql.createStagingTable(adapter.ddl, table.relation, columns.map((c) => ({ name: c.name, type: adapter.portableType(c.type) })), true, sql.FILE_PARTITION_KEY));
    return adapter.columns(table.relation);
  }
  const want = columns.map((c) => c.name).join(', ');
  const have = existing.map((c) => c.name).join(', ');
  if (want !== have) {
    throw new KilnError('STAGE_FAILED', `source ${table.sourceName}.${table.tableName}: ${ddl.rel(table.relation)} has columns (${have}), the source now has (${want})`, {
      location: table.location,
      hint: 'run kiln stage --full-refresh to rebuild the raw table from every file',
    });
  }
  return existing;
}

async function csvReadOf(adapter: Adapter, file: string, table: FileTable, columns: readonly sql.StagedColumn[], header: readonly string[]): Promise<fileSql.RecordsRead> {
  const unknown = header.filter((h) => !columns.some((c) => c.name === h));
  if (unknown.length > 0) {
    throw new KilnError('STAGE_FAILED', `${file}:1: header has column(s) ${unknown.join(', ')} that ${table.sourceName}.${table.tableName} does not have`, {
      location: table.location,
      hint: 'declare them under columns:, or run kiln stage --full-refresh if the export changed shape',
    });
  }
  const probe = fileSql.csvMultiline(file, header.length, table.delimiter);
  const multi = await adapter.queryLocal<{ r: number | string; nl: number | string }>(probe.select, { settings: probe.settings });
  return fileSql.csvRead(file, { header, delimiter: table.delimiter, columns, multiline: multi.rows.map((m) => [Number(m.r), Number(m.nl)] as const) });
}

/** Reads what the ledger needs of a file; a file that cannot be read fails its table. */
function fingerprintOf(file: string, table: FileTable): ReturnType<typeof fingerprintFile> {
  try {
    return fingerprintFile(file);
  } catch (err) {
    throw new KilnError('STAGE_FAILED', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      location: table.location,
      hint: 'check the file exists and this user may read it',
    });
  }
}

/** The first record of a CSV file: a bounded read, the only CSV text kiln looks at itself. */
export function csvHeader(file: string, table: Pick<FileTable, 'delimiter'>): string[] | null {
  const fd = openSync(file, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(Math.min(1 << 20, statSync(file).size));
    text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === table.delimiter) fields.push(cur), (cur = '');
    else if (ch === '\n' || ch === '\r') break;
    else cur += ch;
  }
  fields.push(cur);
  const names = fields.map((f) => f.trim());
  return text.trim() === '' || names.every((n) => n === '') ? null : names;
}

function firstHeader(files: readonly string[], table: FileTable): string[] {
  for (const f of files) {
    fingerprintOf(f, table);
    const header = csvHeader(f, table);
    if (header) return header;
  }
  throw new KilnError('STAGE_FAILED', `source ${table.sourceName}.${table.tableName}: every file is empty, no header to name the columns`, {
    location: table.location,
    hint: 'a CSV source file starts with a header row; or declare columns:',
  });
}

function headerColumns(header: readonly string[]): sql.StagedColumn[] {
  return header.map((name) => ({ name, type: 'String' }));
}

async function countOf(adapter: Adapter, query: string): Promise<number> {
  const r = await adapter.query<{ n: string | number }>(query);
  return Number(r.rows[0]?.n ?? 0);
}
