import type { Relation } from './ddl.js';
import { rel } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';
import { isNullable, type FileRead, type LoadStamp, type StagedColumn } from './staging-sql.js';

/**
 * SQL text for staging MySQL: live tables through ClickHouse's mysql() (one table, or the table
 * list of a whole database) and mysqldump files through its MySQLDump format, including a dump's
 * empty tables. Pure text.
 */

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

/**
 * Rows of a live MySQL table with the load's metadata; `after` (the highest key staged, as
 * ClickHouse returned it) keeps only keys past it.
 */
export function mysqlSelect(conn: MySqlConnection, table: string, stamp: LoadStamp, incremental?: { key: string; after: string | null }): string {
  const where = incremental?.after != null ? `\nWHERE ${quoteIdentifier(incremental.key)} > ${keyLiteral(incremental.after)}` : '';
  // Key order, so a load cut short leaves a prefix and the next run continues after its maximum.
  const order = incremental ? `\nORDER BY ${quoteIdentifier(incremental.key)}` : '';
  return `SELECT *, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM ${mysqlTable(conn, table)}${where}${order}`;
}

/** A key value as a literal: numbers as they are (compared as numbers), anything else as a string. */
export function keyLiteral(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : quoteString(value);
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

/** How a dump's CREATE TABLE statement for `table` begins (mysqldump quotes names with backticks). */
export function dumpCreateTableStart(table: string): string {
  return `CREATE TABLE \`${table.replace(/`/g, '``')}\` (`;
}

export function describeDumpTable(path: string): string {
  return `DESCRIBE file(${quoteString(path)}, 'MySQLDump')`;
}

/** No rows, but fails like a real read would: checks a live MySQL table is reachable and exists. */
export function mysqlProbe(conn: MySqlConnection, table: string): string {
  return `SELECT * FROM ${mysqlTable(conn, table)} LIMIT 0`;
}

/** The highest incremental key already staged (as text, for a literal) and the row count. */
export function maxKeyAndCount(target: Relation, key: string): string {
  return `SELECT toString(max(${quoteIdentifier(key)})) AS m, count() AS n FROM ${rel(target)}`;
}

/**
 * The base tables of a live database. Views are left out: their rows come from tables that load
 * anyway, and a dump holds no rows for them either.
 */
export function mysqlBaseTableNames(conn: MySqlConnection): string {
  const info = mysqlTable({ ...conn, database: 'information_schema' }, 'TABLES');
  return `SELECT TABLE_NAME AS name FROM ${info} WHERE TABLE_SCHEMA = ${quoteString(conn.database)} AND TABLE_TYPE = 'BASE TABLE' ORDER BY name`;
}

/**
 * Each table a dump creates, whether any INSERT fills it, and whether its rows sit on lines of
 * their own (mariadb-dump's `INSERT … VALUES` ending its line). A dumped value never holds a raw
 * newline (it is written `\n`), so statements start lines.
 */
export function dumpTables(path: string): string {
  return `SELECT extract(line, '^(?:CREATE TABLE|INSERT INTO) \`([^\`]+)\`') AS name, max(startsWith(line, 'INSERT INTO')) AS has_rows,
  max(startsWith(line, 'INSERT INTO') AND endsWith(line, ' VALUES')) AS rows_on_lines
FROM file(${quoteString(path)}, 'LineAsString')
WHERE startsWith(line, 'CREATE TABLE') OR startsWith(line, 'INSERT INTO')
GROUP BY name HAVING max(startsWith(line, 'CREATE TABLE')) = 1 ORDER BY name SETTINGS storage_file_read_method = 'pread'`;
}

/**
 * A dump of one empty table: its CREATE TABLE statement, then an INSERT of no values. ClickHouse
 * takes a dump table's column types from its CREATE TABLE, but only describes a table that has an
 * INSERT; the placeholder is never read as rows. A statement sits between them as in a real dump:
 * ClickHouse misses an INSERT that directly follows the CREATE TABLE.
 */
export function emptyTableDump(table: string, createTable: string): string {
  const name = '`' + table.replace(/`/g, '``') + '`';
  return `${createTable.trimEnd()}\nLOCK TABLES ${name} WRITE;\nINSERT INTO ${name} VALUES ();\nUNLOCK TABLES;\n`;
}

/** No rows, with `columns` and the load's metadata: what an empty table stages as. */
export function emptyTableSelect(columns: readonly StagedColumn[], stamp: LoadStamp): string {
  const structure = columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
  return `SELECT *, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM null(${quoteString(structure)})`;
}
