import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import * as sql from '../adapters/staging-sql.js';
import type { StageTable } from './source-options.js';

export interface LedgerEntry {
  readonly fingerprint: string;
  readonly status: string;
}

export const ledgerOf = (database: string): Relation => ({ database, name: sql.LEDGER_TABLE });
export const quarantineOf = (database: string): Relation => ({ database, name: sql.QUARANTINE_TABLE });

/** The ledger and quarantine tables of a raw database (created once, kept across runs). */
export async function ensureStagingTables(adapter: Adapter, database: string): Promise<void> {
  await adapter.createDatabase(database);
  await adapter.execute(sql.createStagingTable(adapter.ddl, ledgerOf(database), sql.LEDGER_COLUMNS));
  await adapter.execute(sql.createStagingTable(adapter.ddl, quarantineOf(database), sql.QUARANTINE_COLUMNS));
}

export async function readLedger(adapter: Adapter, table: StageTable): Promise<Map<string, LedgerEntry>> {
  const r = await adapter.query<{ file: string; fingerprint: string; status: string }>(
    sql.ledgerState(ledgerOf(table.relation.database), table.sourceName, table.tableName),
  );
  return new Map(r.rows.map((row) => [row.file, { fingerprint: row.fingerprint, status: row.status }]));
}

let lastSeq = 0;

export async function writeLedger(adapter: Adapter, table: StageTable, row: Omit<sql.LedgerRow, 'source_name' | 'table_name'>, stamp: sql.LoadStamp): Promise<void> {
  // Strictly increasing within a process, so the latest entry of a file wins even within a millisecond.
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  await adapter.execute(
    sql.insertLedger(ledgerOf(table.relation.database), { source_name: table.sourceName, table_name: table.tableName, ...row }, stamp, lastSeq),
  );
}

/** `--full-refresh`: forget every load of the table, its rejects and its rows. */
export async function forgetTable(adapter: Adapter, table: StageTable): Promise<void> {
  const where = sql.sourceTableIs(table.sourceName, table.tableName);
  await adapter.deleteWhere(ledgerOf(table.relation.database), where);
  await adapter.deleteWhere(quarantineOf(table.relation.database), where);
  await adapter.execute(ddl.dropRelation(adapter.ddl, table.relation));
}
