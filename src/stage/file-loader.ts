import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import * as fileSql from '../adapters/file-read-sql.js';
import * as sql from '../adapters/staging-sql.js';
import { KilnError } from '../errors.js';
import { fingerprintFile } from './fingerprint.js';
import { JsonlStream } from './jsonl-stream.js';
import { quarantineOf, readLedger, writeLedger } from './ledger.js';
import type { FileTable } from './source-options.js';
import { dropQuietly, scratchRelation, type StageContext, type TableLoad } from './stage-context.js';

/**
 * CSV and JSON-lines tables: every matching file is loaded once (the ledger remembers its
 * fingerprint). A file's good records go into a scratch rows table (ClickHouse reads the file and
 * checks each record); only when they fall short of the file's records is it read again for the
 * rejects, so a clean file is read once. The file's rows then replace its earlier rows in the
 * raw table in one step, and the ledger marks it loaded. A run killed in between leaves the file
 * `started`, so the next run replaces whatever it had written. JSON lines bound for a server skip
 * the local engine: their bytes stream to the server, which parses them (jsonl-stream.ts).
 */
export async function loadFileTable(ctx: StageContext, table: FileTable): Promise<TableLoad> {
  const { adapter } = ctx;
  const files = await listFiles(table.path);
  if (files.length === 0) {
    const message = `${table.path} matches no file`;
    if (table.required) {
      throw new KilnError('STAGE_FAILED', `source ${table.sourceName}.${table.tableName}: ${message}`, {
        location: table.location,
        hint: 'check path: (and --vars data_root), or drop required: true',
      });
    }
    ctx.warn({ message: `source ${table.sourceName}.${table.tableName}: ${message}`, location: table.location, hint: 'check path: and --vars data_root' });
    return { files: 0, skipped: 0, rows: 0, rejected: 0 };
  }
  const columns = table.columns ?? (table.loader === 'jsonl' ? [{ name: 'raw', type: 'String' }] : headerColumns(firstHeader(files, table)));
  const large = (f: string) => (statSync(f, { throwIfNoEntry: false })?.size ?? 0) >= sql.LARGE_FILE_BYTES;
  const rawColumns = await ensureRawTable(adapter, table, [...columns, ...sql.fileMetaColumns(files.some(large))]);
  const narrowLines = rawColumns.find((c) => c.name === '_kiln_line')?.type === 'UInt32';

  const ledger = await readLedger(adapter, table);
  const todo = files.filter((f) => {
    const prior = ledger.get(f);
    return !(prior?.status === 'loaded' && prior.fingerprint === fingerprintOf(f, table).fingerprint);
  });
  const load: { files: number; skipped: number; rows: number; rejected: number } = { files: files.length, skipped: files.length - todo.length, rows: 0, rejected: 0 };
  if (todo.length === 0) return load;

  const rows = scratchRelation(table.relation, ctx.runId, 'rows');
  const rejects = scratchRelation(table.relation, ctx.runId, 'rejects');
  // A server gets JSON lines as bytes and parses them itself; the rest is read by the local engine.
  const stream = JsonlStream.fits(ctx, table) ? new JsonlStream(ctx, table, rows, rejects, rawColumns) : null;
  const scratch = [...(stream ? stream.scratch : []), rows, rejects];
  const d = adapter.ddl;
  // The scratch tables' defaults stamp every row; between files only the file's name changes.
  const rowsFile = rawColumns.find((c) => c.name === '_kiln_file')!;
  const rejectsFile = sql.QUARANTINE_COLUMNS.find((c) => c.name === 'file')!;
  try {
    await adapter.execute(sql.createStagingTable(d, rows, sql.withStampDefaults(rawColumns, ctx.stamp, todo[0]!), false));
    await adapter.execute(sql.createStagingTable(d, rejects, sql.rejectsColumns(table.sourceName, table.tableName, ctx.stamp, todo[0]!), false));
    if (stream) await stream.create();
    for (const [i, file] of todo.entries()) {
      const { size, fingerprint } = fingerprintOf(file, table);
      if (narrowLines && size >= sql.LARGE_FILE_BYTES) {
        throw new KilnError('STAGE_FAILED', `${file}: 4 GiB or more, it may hold more lines than ${ddl.rel(table.relation)} numbers (UInt32 _kiln_line)`, {
          location: table.location,
          hint: 'run kiln stage --full-refresh: the raw table is rebuilt with UInt64 line numbers',
        });
      }
      const prior = ledger.get(file);
      await writeLedger(adapter, table, { file, size, fingerprint, rows: 0, rejected: 0, status: 'started' }, ctx.stamp);
      if (i > 0) {
        await adapter.execute(sql.setDefault(d, rows, rowsFile, file));
        await adapter.execute(sql.setDefault(d, rejects, rejectsFile, file));
      }
      const header = table.loader === 'csv' ? csvHeader(file, table) : [];
      if (size === 0 || header === null) {
        ctx.warn({ message: `source ${table.sourceName}.${table.tableName}: ${file} is empty`, location: table.location });
      } else if (stream) {
        await stream.load(file);
      } else {
        const read = table.loader === 'jsonl' ? fileSql.jsonlRead(file, table.columns) : await csvReadOf(adapter, file, table, columns, header);
        await readRecords(adapter, read, columns, rows, rejects);
      }
      const loaded = await adapter.countRows(rows);
      const rejected = await adapter.countRows(rejects);
      // Replace the file's earlier rows (a changed file, or a load killed half-way) in one go.
      if (prior) {
        await adapter.deleteWhere(table.relation, sql.equals('_kiln_file', file));
        await adapter.deleteWhere(quarantineOf(table.relation.database), sql.sourceFileIs(table.sourceName, table.tableName, file));
      }
      if (loaded > 0) await adapter.execute(sql.attachAllFrom(d, table.relation, rows));
      if (rejected > 0) await adapter.execute(sql.copyAll(quarantineOf(table.relation.database), rejects));
      await writeLedger(adapter, table, { file, size, fingerprint, rows: loaded, rejected, status: 'loaded' }, ctx.stamp);
      await adapter.execute(sql.truncate(d, rows));
      await adapter.execute(sql.truncate(d, rejects));
      load.rows += loaded;
      load.rejected += rejected;
    }
  } finally {
    for (const r of scratch) await dropQuietly(adapter, r);
  }
  return load;
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

async function listFiles(pattern: string): Promise<string[]> {
  if (!isDynamicPattern(pattern)) return existsSync(pattern) && statSync(pattern).isFile() ? [pattern] : [];
  const found = await glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false });
  return found.sort();
}

/** The raw table's columns as the warehouse has them, the table created first if missing. */
async function ensureRawTable(adapter: Adapter, table: FileTable, columns: readonly sql.StagedColumn[]): Promise<sql.StagedColumn[]> {
  const existing = await adapter.columns(table.relation);
  if (existing.length === 0) {
    await adapter.execute(sql.createStagingTable(adapter.ddl, table.relation, columns.map((c) => ({ name: c.name, type: adapter.portableType(c.type) }))));
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
