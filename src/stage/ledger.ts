import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import * as sql from '../adapters/staging-sql.js';
import { tempRelation } from '../materialize/materialization.js';
import { dropRawTable } from './sharded-raw.js';
import type { StageTable } from './source-options.js';

export interface LedgerEntry {
  readonly fingerprint: string;
  readonly status: string;
  /** Rows the entry's load wrote (0 for a `started` one). */
  readonly rows: number;
}

/** What the ledger says of one source table: its files' latest entries since its last full refresh. */
export interface TableLedger {
  readonly files: ReadonlyMap<string, LedgerEntry>;
  /** A full refresh began and its clearing has not finished: the next run of any kind finishes it first. */
  readonly refreshPending: boolean;
}

/** The file name of a table's full-refresh entries (no staged file has an empty path). */
const REFRESH_MARK = '';

export const ledgerOf = (database: string): Relation => ({ database, name: sql.LEDGER_TABLE });
export const quarantineOf = (database: string): Relation => ({ database, name: sql.QUARANTINE_TABLE });

/**
 * The ledger and quarantine tables of a raw database (created once, kept across runs). A
 * quarantine made before per-file partitions is rebuilt partitioned (see relayout).
 */
export async function ensureStagingTables(adapter: Adapter, database: string): Promise<void> {
  await adapter.createDatabase(database);
  await adapter.execute(sql.createStagingTable(adapter.ddl, ledgerOf(database), sql.LEDGER_COLUMNS));
  const quarantine = quarantineOf(database);
  await adapter.execute(sql.createStagingTable(adapter.ddl, quarantine, sql.QUARANTINE_COLUMNS, true, sql.QUARANTINE_PARTITION_KEY));
  await relayout(adapter, quarantine, sql.QUARANTINE_PARTITION_KEY, 'relayout');
}

/**
 * Rebuilds a table that predates per-file partitions with them: copied into a scratch table with
 * the partition key, then swapped in (one EXCHANGE or RENAME). Killed before the swap, the table
 * is as it was and the next run starts again (dropping the scratch copy first); after it, the
 * table has its new layout and the moved-aside old one is a leftover the next run drops.
 * `role` names the scratch tables: fixed per table (not per run), so any run finds a killed one's.
 */
export async function relayout(adapter: Adapter, table: Relation, partitionKey: string, role: string): Promise<void> {
  const built = tempRelation(table, role);
  const old = tempRelation(table, `${role}_old`);
  const found = (await adapter.query<{ name: string; key: string }>(sql.partitionKeys(table.database, [table.name, built.name, old.name]))).rows;
  for (const r of found) if (r.name !== table.name) await adapter.execute(ddl.dropRelation(adapter.ddl, { database: table.database, name: r.name }));
  const key = found.find((r) => r.name === table.name)?.key;
  if (key === undefined || sql.samePartitionKey(key, partitionKey)) return;
  const columns = await adapter.columns(table);
  await adapter.execute(sql.createStagingTable(adapter.ddl, built, columns, false, partitionKey));
  await adapter.execute(sql.copyAll(built, table));
  await adapter.swap(built, table, { targetExists: true, old });
}

/**
 * The ledger of one source table: each file's latest entry, without those a full refresh made
 * void (written before its `cleared` entry).
 */
export async function readLedger(adapter: Adapter, table: StageTable): Promise<TableLedger> {
  const r = await adapter.query<{ file: string; fingerprint: string; status: string; rows: string | number; last_seq: string }>(
    sql.ledgerState(ledgerOf(table.relation.database), table.sourceName, table.tableName),
  );
  const mark = r.rows.find((row) => row.file === REFRESH_MARK);
  const since = mark ? BigInt(mark.last_seq) : -1n;
  const files = new Map<string, LedgerEntry>();
  for (const row of r.rows) {
    if (row.file === REFRESH_MARK || BigInt(row.last_seq) < since) continue;
    files.set(row.file, { fingerprint: row.fingerprint, status: row.status, rows: Number(row.rows) });
  }
  return { files, refreshPending: mark?.status === 'refresh' };
}

let lastSeq = 0;

export async function writeLedger(adapter: Adapter, table: StageTable, row: Omit<sql.LedgerRow, 'source_name' | 'table_name'>, stamp: sql.LoadStamp): Promise<void> {
  // Strictly increasing within a process, so the latest entry of a file wins even within a millisecond.
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  await adapter.execute(
    sql.insertLedger(ledgerOf(table.relation.database), { source_name: table.sourceName, table_name: table.tableName, ...row }, stamp, lastSeq),
  );
}

const mark = (status: 'refresh' | 'cleared') => ({ file: REFRESH_MARK, size: 0, fingerprint: '', rows: 0, rejected: 0, status });

/**
 * The table's ledger after finishing any full refresh: `--full-refresh` begins one, and one a
 * killed run began is finished by whatever runs next. A full refresh is, in this order:
 *   1. ledger `refresh` entry   — from here on every run sees the refresh pending;
 *   2. DROP TABLE the raw table (IF EXISTS; a sharded one's `_local` first, sharded-raw.ts);
 *   3. delete the table's quarantine rows (waited for);
 *   4. ledger `cleared` entry   — earlier entries of the table stop counting.
 * Steps 2 and 3 give the same result however often they run, and a run killed before 4 leaves
 * the refresh pending, so the next run (plain `stage` too) repeats 2–4: it never finds the old
 * ledger entries valid while their rows are gone, which is what made a plain `stage` after a
 * killed refresh append everything again. After 4 every file is new to the ledger and loads as a
 * first load does (see file-loader.ts); a MySQL table is rebuilt whole.
 */
export async function settleRefresh(adapter: Adapter, table: StageTable, fullRefresh: boolean, stamp: sql.LoadStamp): Promise<TableLedger> {
  if (fullRefresh) await writeLedger(adapter, table, mark('refresh'), stamp);
  const ledger = fullRefresh ? { files: new Map(), refreshPending: true } : await readLedger(adapter, table);
  if (!ledger.refreshPending) return ledger;
  await dropRawTable(adapter, table);
  await adapter.deleteWhere(quarantineOf(table.relation.database), sql.sourceTableIs(table.sourceName, table.tableName));
  await writeLedger(adapter, table, mark('cleared'), stamp);
  return { files: new Map(), refreshPending: false };
}
