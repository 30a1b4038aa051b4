import type { DdlContext, Relation } from './ddl.js';
import { insertInto, onCluster, rel, storageClause } from './ddl.js';
import { createDistributed, localRelation, shardContext } from './distributed-sql.js';
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
/** From this size on a file may hold more lines than a UInt32 counts (every line takes a byte at least). */
export const LARGE_FILE_BYTES = 2 ** 32;

/**
 * A file table's stamp: the load id and the file are one value for millions of rows, so they are
 * dictionary-encoded (LowCardinality), which halves the cost of writing them. Line numbers are
 * UInt32, half the bytes of UInt64 for the server to write, unless a file is large enough to need more.
 */
export function fileMetaColumns(largeFiles: boolean): StagedColumn[] {
  return [
    { name: '_kiln_load_id', type: 'LowCardinality(String)' },
    { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
    { name: '_kiln_file', type: 'LowCardinality(String)' },
    { name: '_kiln_line', type: largeFiles ? 'UInt64' : 'UInt32' },
  ];
}

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

const columnList = (cols: readonly StagedColumn[]) => cols.map((c) => `  ${quoteIdentifier(c.name)} ${c.type}${c.default ? ` DEFAULT ${c.default}` : ''}`).join(',\n');
export const isNullable = (type: string) => /^Nullable\(/.test(type) || /^LowCardinality\(Nullable\(/.test(type);

/** `partitionBy`: FILE_PARTITION_KEY or QUARANTINE_PARTITION_KEY for the tables whose rows are replaced per file. */
export function createStagingTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[], ifNotExists = true, partitionBy?: string): string {
  const storage = storageClause({ engine: 'MergeTree()', order_by: 'tuple()', ...(partitionBy ? { partition_by: partitionBy } : {}) }, { ctx, table });
  return `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${rel(table)}${onCluster(ctx)}\n(\n${columnList(columns)}\n)\n${storage}`;
}

// ---------------------------------------------------------------------------------------------
// Per-file partitions. A file table is partitioned by its file and the quarantine by (source,
// table, file), so one file's rows are one partition: replacing them is one REPLACE PARTITION
// (atomic, and the same result however often it runs), removing them one DROP PARTITION. A
// partition is named by its value, as the partition key computes it (a String key's partition
// ID is a hash of the value, so the value is the portable way to name it, 18.16 included).

export const FILE_PARTITION_KEY = '_kiln_file';
export const QUARANTINE_PARTITION_KEY = '(source_name, table_name, file)';

/** A file table's partition of one file. */
export const filePartition = (file: string): string => quoteString(file);

/** The quarantine's partition of one file of a source table. */
export const quarantinePartition = (source: string, table: string, file: string): string =>
  `(${quoteString(source)}, ${quoteString(table)}, ${quoteString(file)})`;

/** Replaces `partition` of `target` with the same partition of `from` (which must hold rows of it: an empty one is dropPartition). */
export function replacePartition(ctx: DdlContext, target: Relation, partition: string, from: Relation): string {
  return `ALTER TABLE ${rel(target)} REPLACE PARTITION ${partition} FROM ${rel(from)}`;
}

// ---------------------------------------------------------------------------------------------
// Sharded raw tables (a source table's `sharding_key` on a cluster target): the rows live in
// `<table>_local`, one replica set per shard (`{shard}` in its ZooKeeper path), partitioned by
// file as the unsharded raw table is; models read `<table>`, a Distributed table over them.

/**
 * The two tables of a sharded raw table, in creation order. Both IF NOT EXISTS: a run killed
 * between them (or whose ON CLUSTER statement nodes ran after it died) is finished by the next.
 */
export function createShardedRawTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[], shardingKey: string): string[] {
  const local = localRelation(table);
  return [createStagingTable(shardContext(ctx), local, columns, true, FILE_PARTITION_KEY), createDistributed(ctx, table, local, local, shardingKey, true)];
}

/**
 * Removes a partition from every shard of a sharded raw table: ON CLUSTER, unlike the other
 * partition statements, since each shard is a replica set of its own and the node kiln talks to
 * reaches only its shard's. 18.16 runs DROP PARTITION ON CLUSTER (it refuses REPLACE and ATTACH
 * PARTITION there, which is why a file's new rows go in by an INSERT through the Distributed table).
 */
export function dropShardedPartition(ctx: DdlContext, table: Relation, partition: string): string {
  return `ALTER TABLE ${rel(localRelation(table))}${onCluster(ctx)} DROP PARTITION ${partition}`;
}

/** The engine of one table (one row, column `engine`; no row when it does not exist). */
export function tableEngine(table: Relation): string {
  return `SELECT engine FROM system.tables WHERE database = ${quoteString(table.database)} AND name = ${quoteString(table.name)}`;
}

/** The materialized views an insert into a table fires: one row, columns `databases` and `names` (arrays, in step). */
export function dependentViews(table: Relation): string {
  return `SELECT dependencies_database AS databases, dependencies_table AS names FROM system.tables WHERE database = ${quoteString(table.database)} AND name = ${quoteString(table.name)}`;
}

/** Rows a file table holds from one file (its partition; one row, column `n`). */
export function fileRowCount(table: Relation, file: string): string {
  return `SELECT count() AS n FROM ${rel(table)} WHERE ${FILE_PARTITION_KEY} = ${quoteString(file)}`;
}

/** Removes a partition; one that does not exist is no error, so the statement can be repeated. */
export function dropPartition(ctx: DdlContext, target: Relation, partition: string): string {
  return `ALTER TABLE ${rel(target)} DROP PARTITION ${partition}`;
}

/** Partition keys of the named tables of one database that exist (`key` '' when a table has none). */
export function partitionKeys(database: string, names: readonly string[]): string {
  return `SELECT name, partition_key AS key FROM system.tables WHERE database = ${quoteString(database)} AND name IN (${names.map(quoteString).join(', ')})`;
}

/** Whether a printed partition key is `key` (servers differ in spaces). */
export const samePartitionKey = (printed: string, key: string): boolean => printed.replace(/\s+/g, '') === key.replace(/\s+/g, '');

/** Copies every row of `from` into `target` (a relayout: same columns, new partitioning). */
export function copyAll(target: Relation, from: Relation): string {
  return insertInto(target, undefined, { select: `SELECT * FROM ${rel(from)}` });
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

/** Latest ledger entry per file of one source table (with its seq, as text: UInt64 outgrows a JS number). */
export function ledgerState(ledger: Relation, source: string, table: string): string {
  return `SELECT file, argMax(fingerprint, seq) AS fingerprint, argMax(status, seq) AS status, argMax(size, seq) AS size,
  argMax(rows, seq) AS rows, toString(max(seq)) AS last_seq
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

export function truncate(ctx: DdlContext, table: Relation): string {
  return `TRUNCATE TABLE ${rel(table)}`;
}

/**
 * A file's entries: `started` before its rows are written, `loaded` after, `pruned` once a vanished
 * file's rows are removed. A table's full refresh writes entries with the empty file name: `refresh`
 * when it begins, `cleared` once the table's rows are gone (entries before it no longer count).
 */
export type LedgerStatus = 'started' | 'loaded' | 'pruned' | 'refresh' | 'cleared';

export interface LedgerRow {
  readonly source_name: string;
  readonly table_name: string;
  readonly file: string;
  readonly size: number;
  readonly fingerprint: string;
  readonly rows: number;
  readonly rejected: number;
  readonly status: LedgerStatus;
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
  return insertInto(ledger, LEDGER_COLUMNS.map((c) => c.name), { select: `SELECT ${values.join(', ')}` });
}

export function sourceTableIs(source: string, table: string): string {
  return `source_name = ${quoteString(source)} AND table_name = ${quoteString(table)}`;
}
