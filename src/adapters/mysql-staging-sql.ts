import { quoteIdentifier, quoteString } from './quoting.js';
import { mysqlTable, type LoadStamp, type MySqlConnection, type StagedColumn } from './staging-sql.js';

/**
 * SQL text for staging a whole MySQL database (its table list, live or from a dump) and a dump's
 * empty tables. The rest of the MySQL reading is in staging-sql.ts. Pure text.
 */

/**
 * The base tables of a live database. Views are left out: their rows come from tables that load
 * anyway, and a dump holds no rows for them either.
 */
export function mysqlBaseTableNames(conn: MySqlConnection): string {
  const info = mysqlTable({ ...conn, database: 'information_schema' }, 'TABLES');
  return `SELECT TABLE_NAME AS name FROM ${info} WHERE TABLE_SCHEMA = ${quoteString(conn.database)} AND TABLE_TYPE = 'BASE TABLE' ORDER BY name`;
}

/**
 * Each table a dump creates, and whether any INSERT fills it: an empty table has a CREATE TABLE and
 * no INSERT. A dumped value never holds a raw newline (it is written `\n`), so statements start lines.
 */
export function dumpTables(path: string): string {
  return `SELECT extract(line, '^(?:CREATE TABLE|INSERT INTO) \`([^\`]+)\`') AS name, max(startsWith(line, 'INSERT INTO')) AS has_rows
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
