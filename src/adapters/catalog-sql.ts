import type { Adapter } from './adapter.js';
import { describeSelect, previewRows } from './ddl.js';
import { qualifiedName, quoteString } from './quoting.js';

/**
 * Catalog introspection for `kiln docs`: relations with their columns, warehouse types and sizes,
 * read from system.tables / system.columns. Sizes are optional: older servers (18.16) have no
 * `total_rows` / `total_bytes`, so the columns are asked for only where system.tables has them.
 */

export interface CatalogTableRow {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
  readonly comment: string | null;
  readonly total_rows: number | null;
  readonly total_bytes: number | null;
}

export interface CatalogColumnRow {
  readonly database: string;
  readonly table: string;
  readonly name: string;
  readonly type: string;
  readonly comment: string | null;
  /** 1-based, in table order. */
  readonly index: number;
}

/** Which optional columns a system table has (asked once, not derived from the version). */
export async function systemTableColumns(adapter: Adapter, table: 'tables' | 'columns'): Promise<Set<string>> {
  const r = await adapter.query<{ name: string }>(`SELECT name FROM system.columns WHERE database = 'system' AND table = ${quoteString(table)}`);
  return new Set(r.rows.map((row) => row.name));
}

export function catalogTablesSql(databases: readonly string[], has: ReadonlySet<string>): string {
  const opt = (col: string) => (has.has(col) ? col : `NULL AS ${col}`);
  return `SELECT database, name, engine, ${opt('comment')}, ${opt('total_rows')}, ${opt('total_bytes')} FROM system.tables WHERE database IN (${databases.map(quoteString).join(', ')}) AND NOT is_temporary`;
}

export function catalogColumnsSql(databases: readonly string[], has: ReadonlySet<string>): string {
  const comment = has.has('comment') ? 'comment' : 'NULL AS comment';
  return `SELECT database, table, name, type, ${comment} FROM system.columns WHERE database IN (${databases.map(quoteString).join(', ')})`;
}

/** Every table and view of the given databases with its columns in table order. */
export async function readCatalogRows(adapter: Adapter, databases: readonly string[]): Promise<{ tables: CatalogTableRow[]; columns: CatalogColumnRow[] }> {
  if (databases.length === 0) return { tables: [], columns: [] };
  const [tableCols, columnCols] = [await systemTableColumns(adapter, 'tables'), await systemTableColumns(adapter, 'columns')];
  const tables = await adapter.query<CatalogTableRow>(catalogTablesSql(databases, tableCols), { settings: { output_format_json_quote_64bit_integers: 0 } });
  const columns = await adapter.query<Omit<CatalogColumnRow, 'index'>>(catalogColumnsSql(databases, columnCols));
  // system.columns lists a table's columns in order; 18.16 has no `position` to sort by.
  const seen = new Map<string, number>();
  const indexed = columns.rows.map((c) => {
    const key = `${c.database}.${c.table}`;
    const index = (seen.get(key) ?? 0) + 1;
    seen.set(key, index);
    return { ...c, index };
  });
  return {
    tables: tables.rows.map((t) => ({
      ...t,
      total_rows: t.total_rows === null ? null : Number(t.total_rows),
      total_bytes: t.total_bytes === null ? null : Number(t.total_bytes),
    })),
    columns: indexed,
  };
}

/** The staged-load ledger and quarantine tables, when staging has created them in `rawDatabase`. */
export async function stagingTables(adapter: Adapter, rawDatabase: string): Promise<string[]> {
  const r = await adapter.query<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = ${quoteString(rawDatabase)} AND name LIKE '\\_kiln\\_%'`,
  );
  return r.rows.map((row) => row.name);
}

/** All rows of a (small) bookkeeping table such as the load ledger. */
export async function readBookkeepingRows(adapter: Adapter, database: string, table: string, limit = 100_000): Promise<Record<string, unknown>[]> {
  const r = await adapter.query<Record<string, unknown>>(`SELECT * FROM ${qualifiedName(database, table)} LIMIT ${limit}`, {
    settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return r.rows;
}

/** Rejected rows per (source, table) from the quarantine table (columns per DESIGN: source_name, table_name). */
export async function quarantineCounts(adapter: Adapter, database: string, table: string): Promise<Array<{ source_name: string; table_name: string; n: number }>> {
  const r = await adapter.query<{ source_name: string; table_name: string; n: number | string }>(
    `SELECT source_name, table_name, count() AS n FROM ${qualifiedName(database, table)} GROUP BY source_name, table_name`,
  );
  return r.rows.map((row) => ({ ...row, n: Number(row.n) }));
}

/** Types of a query's result columns, without running it (`DESCRIBE TABLE (SELECT …)`). */
export async function describeQuery(adapter: Adapter, sql: string): Promise<Array<{ name: string; type: string }>> {
  const r = await adapter.query<{ name: string; type: string }>(describeSelect(sql));
  return r.rows.map((row) => ({ name: row.name, type: row.type }));
}

/** The first rows of a query (numbers as JSON numbers where they fit, for charting). */
export async function queryRows(adapter: Adapter, sql: string, limit: number): Promise<Record<string, unknown>[]> {
  const r = await adapter.query<Record<string, unknown>>(previewRows(sql, limit), {
    settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return r.rows;
}
