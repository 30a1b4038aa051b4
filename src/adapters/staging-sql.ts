import type { DdlContext, Relation } from './ddl.js';
import { rel } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * ClickHouse SQL text for staging: the raw, ledger and quarantine tables, the load's stamp, and
 * reading MySQL (live and dumps). Reading CSV and JSON-lines files is file-read-sql.ts. Pure
 * text, so every statement can be checked without a database.
 */

export interface StagedColumn {
  readonly name: string;
  readonly type: string;
  /** A DEFAULT expression. */
  readonly default?: string;
}

/** A SELECT over local files and the settings it reads them with. */
export interface FileRead {
  readonly select: string;
  readonly settings: Readonly<Record<string, string | number>>;
}

/** Values stamped on every row of one load. */
export interface LoadStamp {
  readonly loadId: string;
  /** `YYYY-MM-DD hh:mm:ss` in UTC. */
  readonly loadedAt: string;
}

export const META_COLUMNS: readonly StagedColumn[] = [
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
];
/**
 * A file table's stamp: the load id and the file are one value for millions of rows, so they are
 * dictionary-encoded (LowCardinality), which halves the cost of writing them.
 */
export const FILE_META_COLUMNS: readonly StagedColumn[] = [
  { name: '_kiln_load_id', type: 'LowCardinality(String)' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
  { name: '_kiln_file', type: 'LowCardinality(String)' },
  { name: '_kiln_line', type: 'UInt64' },
];

export const QUARANTINE_TABLE = '_kiln_quarantine';
export const LEDGER_TABLE = '_kiln_ledger';

export const QUARANTINE_COLUMNS: readonly StagedColumn[] = [
  { name: 'source_name', type: 'String' },
  { name: 'table_name', type: 'String' },
  { name: 'file', type: 'String' },
  { name: 'line', type: 'UInt64' },
  { name: 'raw', type: 'String' },
  { name: 'reason', type: 'String' },
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
];

export const LEDGER_COLUMNS: readonly StagedColumn[] = [
  { name: 'source_name', type: 'String' },
  { name: 'table_name', type: 'String' },
  { name: 'file', type: 'String' },
  { name: 'size', type: 'UInt64' },
  { name: 'fingerprint', type: 'String' },
  { name: 'rows', type: 'UInt64' },
  { name: 'rejected', type: 'UInt64' },
  /** `started` before rows are written, `loaded` after: a `started` left alone means a killed load. */
  { name: 'status', type: 'String' },
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
  /** Orders entries written within the same second. */
  { name: 'seq', type: 'UInt64' },
];

export const onCluster = (ctx: DdlContext) => (ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : '');
const columnList = (cols: readonly StagedColumn[]) => cols.map((c) => `  ${quoteIdentifier(c.name)} ${c.type}${c.default ? ` DEFAULT ${c.default}` : ''}`).join(',\n');
export const isNullable = (type: string) => /^Nullable\(/.test(type) || /^LowCardinality\(Nullable\(/.test(type);

export function createStagingTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[], ifNotExists = true): string {
  return `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${rel(table)}${onCluster(ctx)}\n(\n${columnList(columns)}\n)\nENGINE = MergeTree()\nORDER BY tuple()`;
}

/** Deletes rows: a lightweight DELETE where the server has one, else a mutation (wait for it). */
export function deleteRows(ctx: DdlContext, table: Relation, where: string): string {
  return ctx.capabilities.lightweightDelete
    ? `DELETE FROM ${rel(table)}${onCluster(ctx)} WHERE ${where}`
    : `ALTER TABLE ${rel(table)}${onCluster(ctx)} DELETE WHERE ${where}`;
}

// ---------------------------------------------------------------------------------------------
// The load's stamp. A file's rows and rejects are written to scratch tables whose columns default
// to the stamp, so every writer sends only what the file holds: a server gets JSON lines as they
// are (plus a line number), and ClickHouse fills the stamp in.

function stampValue(column: string, stamp: LoadStamp, file: string): string | undefined {
  switch (column) {
    case '_kiln_load_id':
      return quoteString(stamp.loadId);
    case '_kiln_loaded_at':
      return `toDateTime(${quoteString(stamp.loadedAt)}, 'UTC')`;
    case '_kiln_file':
      return quoteString(file);
    default:
      return undefined;
  }
}

/** A raw table's columns (as the server has them) for a file's rows table: the stamp as defaults. */
export function withStampDefaults(columns: readonly StagedColumn[], stamp: LoadStamp, file: string): StagedColumn[] {
  return columns.map((c) => {
    const v = stampValue(c.name, stamp, file);
    return v ? { ...c, default: `CAST(${v} AS ${c.type})` } : c;
  });
}

/**
 * The stamp as a view's output columns, typed as the target has them: 18.16 neither fills a
 * view's missing columns with defaults nor converts types on the way into its target.
 */
export function stampSelect(target: readonly StagedColumn[], stamp: LoadStamp, file: string): string[] {
  return target.flatMap((c) => {
    const v = stampValue(c.name, stamp, file);
    return v ? [`CAST(${v} AS ${c.type}) AS ${quoteIdentifier(c.name)}`] : [];
  });
}

/** Quarantine columns for one table's rejects table: all but line, raw and reason default to the load. */
export function rejectsColumns(source: string, table: string, stamp: LoadStamp, file: string): StagedColumn[] {
  const values: Record<string, string | undefined> = {
    source_name: quoteString(source),
    table_name: quoteString(table),
    file: quoteString(file),
    _kiln_load_id: stampValue('_kiln_load_id', stamp, file),
    _kiln_loaded_at: stampValue('_kiln_loaded_at', stamp, file),
  };
  return QUARANTINE_COLUMNS.map((c) => (values[c.name] ? { ...c, default: values[c.name] } : c));
}

/** Points a column's default at the next file (a metadata change: the scratch table is empty then). */
export function setDefault(ctx: DdlContext, table: Relation, column: StagedColumn, text: string): string {
  return `ALTER TABLE ${rel(table)}${onCluster(ctx)} MODIFY COLUMN ${quoteIdentifier(column.name)} ${column.type} DEFAULT CAST(${quoteString(text)} AS ${column.type})`;
}

export function pendingMutations(table: Relation): string {
  return `SELECT count() AS n FROM system.mutations WHERE database = ${quoteString(table.database)} AND table = ${quoteString(table.name)} AND is_done = 0`;
}

export function equals(column: string, value: string): string {
  return `${quoteIdentifier(column)} = ${quoteString(value)}`;
}

/** Latest ledger entry per file of one source table. */
export function ledgerState(ledger: Relation, source: string, table: string): string {
  return `SELECT file, argMax(fingerprint, seq) AS fingerprint, argMax(status, seq) AS status, argMax(size, seq) AS size
FROM ${rel(ledger)}
WHERE source_name = ${quoteString(source)} AND table_name = ${quoteString(table)}
GROUP BY file`;
}

/** The last successful load of each table (freshness falls back to it without loaded_at_field). */
export function lastLoadedAt(ledger: Relation, source: string, table: string): string {
  return `SELECT toUnixTimestamp(max(_kiln_loaded_at)) AS t FROM ${rel(ledger)}
WHERE source_name = ${quoteString(source)} AND table_name = ${quoteString(table)} AND status = 'loaded'`;
}

export function maxOf(table: Relation, expr: string): string {
  return `SELECT toUnixTimestamp(max(${expr})) AS t, count() AS n FROM ${rel(table)}`;
}


export function createNullTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[]): string {
  return `CREATE TABLE ${rel(table)}${onCluster(ctx)}\n(\n${columnList(columns)}\n)\nENGINE = Null`;
}

/** Moves a fully loaded file's rows into the raw table in one step (parts are linked, not copied). */
export function attachAllFrom(ctx: DdlContext, target: Relation, from: Relation): string {
  return `ALTER TABLE ${rel(target)}${onCluster(ctx)} ATTACH PARTITION tuple() FROM ${rel(from)}`;
}

export function truncate(ctx: DdlContext, table: Relation): string {
  return `TRUNCATE TABLE ${rel(table)}${onCluster(ctx)}`;
}

export function copyAll(target: Relation, from: Relation): string {
  return `INSERT INTO ${rel(target)} SELECT * FROM ${rel(from)}`;
}

// ---------------------------------------------------------------------------------------------
// MySQL.

export interface MySqlConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export function mysqlTable(conn: MySqlConnection, table: string): string {
  return `mysql(${quoteString(`${conn.host}:${conn.port}`)}, ${quoteString(conn.database)}, ${quoteString(table)}, ${quoteString(conn.user)}, ${quoteString(conn.password)})`;
}

export function mysqlTableNames(conn: MySqlConnection): string {
  const info = mysqlTable({ ...conn, database: 'information_schema' }, 'TABLES');
  return `SELECT TABLE_NAME AS name FROM ${info} WHERE TABLE_SCHEMA = ${quoteString(conn.database)} ORDER BY name`;
}

/** Rows of a live MySQL table with the load's metadata; `after` keeps only keys past a value. */
export function mysqlSelect(conn: MySqlConnection, table: string, stamp: LoadStamp, incremental?: { key: string; after: string | null }): string {
  const where = incremental?.after != null ? `\nWHERE ${quoteIdentifier(incremental.key)} > ${incremental.after}` : '';
  // Key order, so a load cut short leaves a prefix and the next run continues after its maximum.
  const order = incremental ? `\nORDER BY ${quoteIdentifier(incremental.key)}` : '';
  return `SELECT *, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM ${mysqlTable(conn, table)}${where}${order}`;
}

const DATE_TYPE = /^(Nullable\()?(Date|Date32|DateTime|DateTime64\(\d+\)|DateTime\('[^']*'\))\)?$/;

/**
 * Structure for reading one table of a dump. Dates are read as text: ClickHouse would turn a MySQL
 * zero date into a real-looking one, so `dumpSelect` maps zero and impossible dates to the epoch as `mysql()` does.
 */
export function dumpStructure(columns: readonly StagedColumn[]): string {
  return columns.map((c) => `${quoteIdentifier(c.name)} ${DATE_TYPE.test(c.type) ? (isNullable(c.type) ? 'Nullable(String)' : 'String') : c.type}`).join(', ');
}

export function dumpSelect(path: string, table: string, columns: readonly StagedColumn[], stamp: LoadStamp): FileRead {
  const values = columns.map((c) => {
    const q = quoteIdentifier(c.name);
    if (!DATE_TYPE.test(c.type)) return q;
    // Zero dates and dates MySQL keeps under ALLOW_INVALID_DATES (2024-02-30) have no ClickHouse
    // value: they become the epoch, as mysql() makes them; NULL stays NULL.
    const base = c.type.replace(/^Nullable\((.*)\)$/, '$1');
    // Checked first: ClickHouse reads 0000-00-00 as a real-looking date, and MySQL allows zero parts.
    const zero = `match(${q}, '^0000|^\\\\d{4}-00|^\\\\d{4}-\\\\d{2}-00')`;
    const parsed = `if(${zero}, CAST(0 AS ${base}), ifNull(accurateCastOrNull(${q}, ${quoteString(base)}), CAST(0 AS ${base})))`;
    return isNullable(c.type) ? `if(isNull(${q}), NULL, ${parsed}) AS ${q}` : `${parsed} AS ${q}`;
  });
  return {
    select: `SELECT ${values.join(', ')}, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM file(${quoteString(path)}, 'MySQLDump', ${quoteString(dumpStructure(columns))})`,
    settings: dumpSettings(table),
  };
}

export function dumpSettings(table: string): Record<string, string | number> {
  return {
    input_format_mysql_dump_table_name: table,
    input_format_mysql_dump_map_column_names: 1,
    storage_file_read_method: 'pread',
  };
}

/** Names of the tables a dump creates (for "not in the dump" errors). */
export function dumpTableNames(path: string): string {
  return `SELECT DISTINCT extract(line, '^CREATE TABLE \`([^\`]+)\`') AS name FROM file(${quoteString(path)}, 'LineAsString')
WHERE startsWith(line, 'CREATE TABLE') ORDER BY name SETTINGS storage_file_read_method = 'pread'`;
}

export function describeDumpTable(path: string): string {
  return `DESCRIBE file(${quoteString(path)}, 'MySQLDump')`;
}

export interface LedgerRow {
  readonly source_name: string;
  readonly table_name: string;
  readonly file: string;
  readonly size: number;
  readonly fingerprint: string;
  readonly rows: number;
  readonly rejected: number;
  readonly status: 'started' | 'loaded';
}

export function insertLedger(ledger: Relation, row: LedgerRow, stamp: LoadStamp, seq: number): string {
  const values = [
    quoteString(row.source_name),
    quoteString(row.table_name),
    quoteString(row.file),
    String(Math.trunc(row.size)),
    quoteString(row.fingerprint),
    String(Math.trunc(row.rows)),
    String(Math.trunc(row.rejected)),
    quoteString(row.status),
    quoteString(stamp.loadId),
    `toDateTime(${quoteString(stamp.loadedAt)}, 'UTC')`,
    String(Math.trunc(seq)),
  ];
  return `INSERT INTO ${rel(ledger)} (${LEDGER_COLUMNS.map((c) => quoteIdentifier(c.name)).join(', ')}) SELECT ${values.join(', ')}`;
}

export function sourceTableIs(source: string, table: string): string {
  return `source_name = ${quoteString(source)} AND table_name = ${quoteString(table)}`;
}

/** No rows, but fails like a real read would: checks a live MySQL table is reachable and exists. */
export function mysqlProbe(conn: MySqlConnection, table: string): string {
  return `SELECT * FROM ${mysqlTable(conn, table)} LIMIT 0`;
}

/** The highest incremental key already staged (as text, for a literal) and the row count. */
export function maxKeyAndCount(target: Relation, key: string): string {
  return `SELECT toString(max(${quoteIdentifier(key)})) AS m, count() AS n FROM ${rel(target)}`;
}
