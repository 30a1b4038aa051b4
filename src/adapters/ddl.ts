import type { Capabilities } from './capabilities.js';
import { qualifiedName, quoteIdentifier, quoteString, sqlLiteral } from './quoting.js';
import { escapeRegExp } from '../escape-regexp.js';

/**
 * ClickHouse DDL text. Pure functions of their arguments (and capabilities), so the
 * materializations can be tested as SQL text and compiled with no database.
 * `cluster` is threaded through every statement so ON CLUSTER is added in one place.
 */

export interface Relation {
  readonly database: string;
  readonly name: string;
}

/** The storage half of a table definition, from the model's config. */
export interface TableOptions {
  readonly engine?: string;
  readonly order_by?: string | readonly string[];
  readonly partition_by?: string | readonly string[];
  readonly primary_key?: string | readonly string[];
  readonly ttl?: string;
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
}

/** A column of a table kiln defines itself: its type, and dbt-clickhouse's per-column `codec`/`ttl`. */
export interface ColumnDefinition {
  readonly name: string;
  readonly type: string;
  /** What goes inside `CODEC(…)`, e.g. `Delta, ZSTD`. */
  readonly codec?: string;
  /** A TTL expression for the column's values. */
  readonly ttl?: string;
}

/** A data-skipping index: `INDEX name expression TYPE type GRANULARITY n`. */
export interface SkippingIndex {
  readonly name: string;
  readonly expression: string;
  readonly type: string;
  readonly granularity?: number;
}

/** `PROJECTION name (query)`. */
export interface Projection {
  readonly name: string;
  readonly query: string;
}

/** `CONSTRAINT name CHECK expression`: ClickHouse refuses an INSERT with a row where it is false. */
export interface CheckConstraint {
  readonly name: string;
  readonly expression: string;
}

/** What a table holds besides its columns and storage clause. */
export interface TableElements {
  readonly indexes?: readonly SkippingIndex[];
  readonly projections?: readonly Projection[];
  readonly checks?: readonly CheckConstraint[];
}

/**
 * How tables kiln creates are replicated (a target with `replicated: true`, the default on a cluster).
 * MergeTree-family engines become their Replicated form with these arguments.
 */
export interface Replication {
  /**
   * ZooKeeper path pattern. kiln fills `{database}`, `{table}` (the table as created) and `{uuid}`
   * (a fresh id per created table: 18.16 has no table UUIDs, and a table built under a scratch
   * name and renamed keeps its path, so its rebuild needs another); the server fills its macros.
   */
  readonly zookeeperPath: string;
  readonly replicaName: string;
  /** The `{uuid}` of the next table created. */
  readonly uniqueId: () => string;
}

export interface DdlContext {
  readonly capabilities: Capabilities;
  /** The target's `cluster`: structure statements (CREATE, DROP, RENAME, …) run ON CLUSTER. */
  readonly cluster?: string;
  /** Set when kiln makes MergeTree tables Replicated (a replicated cluster target). */
  readonly replication?: Replication;
}

/**
 * Defaults of a replicated cluster target. Without `{shard}` in the path every node of the cluster
 * is a replica of the one table, so any node reads all of a model's rows; the replica name is
 * prefixed with the shard because `{replica}` is often unique only within its shard.
 */
export const DEFAULT_ZOOKEEPER_PATH = '/clickhouse/kiln/{database}/{table}/{uuid}';
export const DEFAULT_REPLICA_NAME = '{shard}-{replica}';

export const rel = (r: Relation): string => qualifiedName(r.database, r.name);
/**
 * ` ON CLUSTER c` when the target names a cluster, else nothing: for statements that change
 * structure (CREATE, DROP, RENAME, ADD COLUMN on a table that is not replicated). The one helper
 * every SQL builder of this folder uses.
 *
 * Statements that change a table's rows (INSERT, REPLACE/ATTACH/DROP PARTITION, DELETE, TRUNCATE)
 * run on the node kiln talks to, never ON CLUSTER: a Replicated table passes them to its other
 * replicas itself (ON CLUSTER would run them again once per shard of a table that spans shards),
 * 18.16 refuses REPLACE PARTITION ON CLUSTER ("Unsupported type of ALTER query"), and on a
 * cluster target that is not replicated kiln's rows live only on its own node anyway.
 */
export const onCluster = (ctx: Pick<DdlContext, 'cluster'>) => (ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : '');

/** ON CLUSTER for an ALTER of a table's columns, unless the table is Replicated (then the ALTER replicates itself). */
const onClusterUnlessReplicated = (ctx: DdlContext) => (ctx.replication ? '' : onCluster(ctx));

/**
 * `engine` as created on this target: a MergeTree-family engine becomes its Replicated form on a
 * replicated target (`ReplacingMergeTree(ver)` → `ReplicatedReplacingMergeTree('<path>', '<replica>', ver)`);
 * an engine already Replicated or Shared, or not MergeTree, is kept as written.
 */
export function replicatedEngine(ctx: DdlContext, engine: string, table: Relation): string {
  const r = ctx.replication;
  if (!r) return engine;
  const m = /^\s*(\w*)MergeTree\s*(?:\(([\s\S]*)\))?\s*$/.exec(engine);
  if (!m || /^(Replicated|Shared)/.test(m[1]!)) return engine;
  const args = m[2]?.trim();
  return `Replicated${m[1]}MergeTree(${zookeeperArgs(r, table)}${args ? `, ${args}` : ''})`;
}

/** `'<path>', '<replica name>'` for a new Replicated table. */
export function zookeeperArgs(r: Replication, table: Relation): string {
  const path = r.zookeeperPath
    .replaceAll('{database}', table.database)
    .replaceAll('{table}', table.name)
    .replaceAll('{uuid}', r.uniqueId());
  return `${quoteString(path)}, ${quoteString(r.replicaName)}`;
}

function expressionList(value: string | readonly string[]): string {
  // `order_by: 'a, b'` (dbt-clickhouse style) must become a tuple: `ORDER BY a, b` is a syntax error.
  if (typeof value === 'string') return hasTopLevelComma(value) ? `(${value})` : value;
  return value.length === 1 ? value[0]! : `(${value.join(', ')})`;
}

function hasTopLevelComma(expr: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '`' || c === '"') quote = c;
    else if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) return true;
  }
  return false;
}

/**
 * `ENGINE = … PARTITION BY … ORDER BY … PRIMARY KEY … TTL … SETTINGS …` (the order 18.16 accepts too);
 * `on` a replicated target, a MergeTree engine in its Replicated form (see replicatedEngine).
 */
export function storageClause(opts: TableOptions, on?: { readonly ctx: DdlContext; readonly table: Relation }): string {
  const written = opts.engine?.trim() || 'MergeTree()';
  const engine = on ? replicatedEngine(on.ctx, written, on.table) : written;
  const parts = [`ENGINE = ${/\)$/.test(engine) || /\s/.test(engine) ? engine : `${engine}()`}`];
  const mergeTree = /MergeTree/i.test(engine);
  if (opts.partition_by !== undefined && (typeof opts.partition_by === 'string' || opts.partition_by.length)) {
    parts.push(`PARTITION BY ${expressionList(opts.partition_by)}`);
  }
  if (mergeTree) parts.push(`ORDER BY ${opts.order_by !== undefined && opts.order_by.length ? expressionList(opts.order_by) : 'tuple()'}`);
  if (opts.primary_key !== undefined && opts.primary_key.length) parts.push(`PRIMARY KEY ${expressionList(opts.primary_key)}`);
  if (opts.ttl) parts.push(`TTL ${opts.ttl}`);
  const settings = Object.entries(opts.settings ?? {});
  if (settings.length) parts.push(`SETTINGS ${settings.map(([k, v]) => `${k} = ${sqlLiteral(v)}`).join(', ')}`);
  return parts.join('\n');
}

export function createDatabase(ctx: DdlContext, database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}${onCluster(ctx)}`;
}

/** `empty`: `EMPTY AS`, the table made from the query's columns without running it (capability emptyAsSelect). */
export function createTableAs(ctx: DdlContext, target: Relation, select: string, opts: TableOptions, how: { readonly empty?: boolean } = {}): string {
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n${storageClause(opts, { ctx, table: target })}\n${how.empty ? 'EMPTY AS' : 'AS'} ${stripTrailingSemicolon(select)}`;
}

/**
 * A table holding `select`'s rows. On a cluster, CREATE … AS SELECT ON CLUSTER would run the
 * SELECT on every node (each inserting what its own node reads), so there the table is created
 * empty ON CLUSTER and filled by one INSERT on the node kiln talks to (replication copies it).
 */
export function createTableFromSelect(ctx: DdlContext, target: Relation, select: string, opts: TableOptions): readonly string[] {
  if (!ctx.cluster) return [createTableAs(ctx, target, select, opts)];
  return [createTableLike(ctx, target, select, opts), insertSelect(target, select)];
}

/** An empty table with the columns `select` would produce. */
export function createTableLike(ctx: DdlContext, target: Relation, select: string, opts: TableOptions): string {
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n${storageClause(opts, { ctx, table: target })}\nAS SELECT * FROM (
${stripTrailingSemicolon(select)}
) LIMIT 0`;
}

export function createTable(
  ctx: DdlContext,
  target: Relation,
  columns: readonly ColumnDefinition[],
  opts: TableOptions,
  elements: TableElements = {},
): string {
  const lines = [
    ...columns.map(columnDefinition),
    ...(elements.indexes ?? []).map(
      (i) => `INDEX ${quoteIdentifier(i.name)} ${i.expression} TYPE ${i.type}${i.granularity === undefined ? '' : ` GRANULARITY ${Math.floor(i.granularity)}`}`,
    ),
    ...(elements.projections ?? []).map((p) => `PROJECTION ${quoteIdentifier(p.name)} (${stripTrailingSemicolon(p.query)})`),
    ...(elements.checks ?? []).map((c) => `CONSTRAINT ${quoteIdentifier(c.name)} CHECK ${c.expression}`),
  ];
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n(\n${lines.map((l) => `  ${l}`).join(',\n')}\n)\n${storageClause(opts, { ctx, table: target })}`;
}

/** `name Type [CODEC(…)] [TTL …]`, in the order ClickHouse parses them. */
function columnDefinition(c: ColumnDefinition): string {
  return `${quoteIdentifier(c.name)} ${c.type}${c.codec ? ` CODEC(${c.codec})` : ''}${c.ttl ? ` TTL ${c.ttl}` : ''}`;
}

/**
 * A query with these columns and types and no rows, creating nothing: each column is an
 * arrayJoin of an empty array of its type (portable to 18.16, which has no null() table function).
 */
export function emptyRows(columns: ReadonlyArray<{ name: string; type: string }>): string {
  return `SELECT ${columns.map((c) => `arrayJoin(CAST([] AS Array(${c.type}))) AS ${quoteIdentifier(c.name)}`).join(', ')}`;
}

/** An empty Memory table with these columns: ClickHouse spells their types canonically in DESCRIBE. */
export function createTypeProbe(ctx: DdlContext, target: Relation, columns: ReadonlyArray<{ name: string; type: string }>): string {
  const cols = columns.map((c) => `  ${quoteIdentifier(c.name)} ${c.type}`).join(',\n');
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n(\n${cols}\n)\nENGINE = Memory`;
}

export function createView(ctx: DdlContext, target: Relation, select: string, opts: { orReplace: boolean }): string {
  const head = opts.orReplace ? 'CREATE OR REPLACE VIEW' : 'CREATE VIEW';
  return `${head} ${rel(target)}${onCluster(ctx)} AS\n${stripTrailingSemicolon(select)}`;
}

/** Where an INSERT's rows come from. */
export type InsertRows =
  /** Rows in `format` after the statement: the request body, or `inline` text on the next line. */
  | { readonly format: string; readonly inline?: string }
  /** A local file ClickHouse reads itself; `structure` names its columns where they cannot be inferred. */
  | { readonly file: string; readonly format: string; readonly structure?: string }
  /** The rows of a query. */
  | { readonly select: string };

/** Every INSERT kiln sends, drivers' included: `INSERT INTO t [(columns)]` and where its rows come from. */
export function insertInto(target: Relation, columns: readonly string[] | undefined, rows: InsertRows): string {
  const head = `INSERT INTO ${rel(target)}${columns?.length ? ` (${columns.map(quoteIdentifier).join(', ')})` : ''}`;
  if ('select' in rows) return `${head}\n${stripTrailingSemicolon(rows.select)}`;
  if ('file' in rows) return `${head} SELECT * FROM ${fileFunction(rows.file, rows.format, rows.structure)}`;
  return `${head} FORMAT ${rows.format}${rows.inline === undefined ? '' : `\n${rows.inline}`}`;
}

/** `file(path, format[, structure])`: a local file as ClickHouse reads it. */
export function fileFunction(path: string, format: string, structure?: string): string {
  return `file(${quoteString(path)}, ${quoteString(format)}${structure ? `, ${quoteString(structure)}` : ''})`;
}

/** The columns ClickHouse infers for a local file. */
export function describeFile(path: string, format: string): string {
  return `DESCRIBE ${fileFunction(path, format)}`;
}

export function insertSelect(target: Relation, select: string, columns?: readonly string[]): string {
  return insertInto(target, columns, { select });
}

export function exchangeTables(ctx: DdlContext, a: Relation, b: Relation): string {
  return `EXCHANGE TABLES ${rel(a)} AND ${rel(b)}${onCluster(ctx)}`;
}

/** Several renames in one statement, so the swap has no moment without the target. */
export function renameTables(ctx: DdlContext, pairs: ReadonlyArray<readonly [Relation, Relation]>): string {
  return `RENAME TABLE ${pairs.map(([from, to]) => `${rel(from)} TO ${rel(to)}`).join(', ')}${onCluster(ctx)}`;
}

export function dropRelation(ctx: DdlContext, target: Relation): string {
  // DROP TABLE drops views too, on every version.
  return `DROP TABLE IF EXISTS ${rel(target)}${onCluster(ctx)}`;
}

/**
 * A template's adapter.drop_relation: the relation as the template names it (a ref placeholder is
 * resolved later), on every node of the target's cluster as kiln's own drops are.
 */
export function dropRelationNamed(ctx: Pick<DdlContext, 'cluster'>, name: string): string {
  return `DROP TABLE IF EXISTS ${name}${onCluster(ctx)}`;
}

export function countRows(target: Relation): string {
  return `SELECT count() AS n FROM ${rel(target)}`;
}

/** A statement with a SETTINGS clause, for the in-process engine (a server takes settings as request parameters). */
export function withSettings(sql: string, settings: Readonly<Record<string, string | number | boolean>> | undefined): string {
  if (!settings || Object.keys(settings).length === 0) return sql;
  const list = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'string' ? quoteString(v) : Number(v)}`);
  return `${sql.replace(/;\s*$/, '')}\nSETTINGS ${list.join(', ')}`;
}

export function stripTrailingSemicolon(sql: string): string {
  return sql.replace(/;\s*$/, '').replace(/\s+$/, '');
}

/** An empty table with exactly `source`'s structure and engine (partition operations need that). */
export function createTableAsTable(ctx: DdlContext, target: Relation, source: Relation, sourceEngine?: string): string {
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)} AS ${rel(source)}${sourceEngine && ctx.replication ? `\n${withNewZookeeperPath(ctx.replication, sourceEngine, target)}` : ''}`;
}

/**
 * `source`'s storage clause (`ENGINE = Replicated…MergeTree('<path>', '<replica>', …) …` as SHOW
 * CREATE prints it) for a new table `target`: the same, with a new ZooKeeper path (two tables
 * cannot share one). A clause that is not Replicated is returned as it is.
 */
export function withNewZookeeperPath(r: Replication, storage: string, target: Relation): string {
  return storage.replace(/(ENGINE\s*=\s*Replicated\w*MergeTree\s*\(\s*)'(?:[^'\\]|\\.)*'\s*,\s*'(?:[^'\\]|\\.)*'/, (_m, head: string) => `${head}${zookeeperArgs(r, target)}`);
}

/** The storage clause of a SHOW CREATE TABLE statement: from `ENGINE =` to the end. */
export function storageOfCreate(statement: string): string | undefined {
  const at = statement.search(/\sENGINE\s*=/);
  return at < 0 ? undefined : statement.slice(at).trim();
}

/** Copies a partition's parts from `source` by hard links: cheap, and atomic per partition. */
export function attachPartitionFrom(ctx: DdlContext, target: Relation, partitionId: string, source: Relation): string {
  return `ALTER TABLE ${rel(target)} ATTACH PARTITION ID ${sqlLiteral(partitionId)} FROM ${rel(source)}`;
}

/** Atomically replaces one partition of `target` with the same partition of `source`. */
export function replacePartitionFrom(ctx: DdlContext, target: Relation, partitionId: string, source: Relation): string {
  return `ALTER TABLE ${rel(target)} REPLACE PARTITION ID ${sqlLiteral(partitionId)} FROM ${rel(source)}`;
}

export function addColumns(ctx: DdlContext, target: Relation, columns: ReadonlyArray<{ name: string; type: string }>): string {
  return `ALTER TABLE ${rel(target)}${onClusterUnlessReplicated(ctx)} ${columns.map((c) => `ADD COLUMN ${quoteIdentifier(c.name)} ${c.type}`).join(', ')}`;
}

/**
 * Deletes rows matching `where`: a lightweight DELETE where the server has it, otherwise an
 * ALTER … DELETE mutation (the caller waits for it, see pendingMutations).
 */
export function deleteWhere(ctx: DdlContext, target: Relation, where: string): string {
  return ctx.capabilities.lightweightDelete
    ? `DELETE FROM ${rel(target)} WHERE ${where}`
    : `ALTER TABLE ${rel(target)} DELETE WHERE ${where}`;
}

export function pendingMutations(target: Relation): string {
  return `SELECT count() AS n FROM system.mutations WHERE database = ${sqlLiteral(target.database)} AND table = ${sqlLiteral(target.name)} AND is_done = 0`;
}

/** The rows of `table` whose key does not appear in `source` (what delete_insert keeps). */
export function rowsWithoutKeysOf(table: Relation, keys: readonly string[], source: Relation): string {
  return `SELECT * FROM ${rel(table)} WHERE NOT ${keyIn(keys, source)}`;
}

/** `(a, b) IN (SELECT a, b FROM source)`: rows of a table whose key appears in `source`. */
export function keyIn(keys: readonly string[], source: Relation): string {
  const cols = keys.map(quoteIdentifier).join(', ');
  return `(${cols}) IN (SELECT ${cols} FROM ${rel(source)})`;
}

export function insertSelectColumns(target: Relation, select: string, columns: readonly string[]): string {
  const cols = columns.map(quoteIdentifier).join(', ');
  return insertInto(target, columns, { select: `SELECT ${cols} FROM (\n${stripTrailingSemicolon(select)}\n)` });
}

/** The first rows a query returns, for `kiln show`. */
export function previewRows(select: string, limit: number): string {
  return `SELECT * FROM (\n${stripTrailingSemicolon(select)}\n) LIMIT ${Math.max(0, Math.floor(limit))}`;
}

/** Every row of a relation, optionally only those matching `predicate` (for previews). */
export function selectAll(relation: Relation, predicate?: string): string {
  return `SELECT * FROM ${rel(relation)}${predicate ? ` WHERE ${predicate}` : ''}`;
}

/** The columns a query produces, without running it (scalar subqueries aside); 18.16 has it too. */
export function describeSelect(select: string): string {
  return `DESCRIBE (\n${stripTrailingSemicolon(select)}\n)`;
}

/** Rows and active parts per table and partition, for several tables in one query. */
export function partitionRows(relations: readonly Relation[]): string {
  const list = (values: readonly string[]) => [...new Set(values)].map(sqlLiteral).join(', ');
  return (
    `SELECT database, table, partition_id, sum(rows) AS rows, count() AS parts FROM system.parts ` +
    `WHERE database IN (${list(relations.map((r) => r.database))}) AND table IN (${list(relations.map((r) => r.name))}) AND active ` +
    `GROUP BY database, table, partition_id`
  );
}

/** A materialized view that runs `select` on every block inserted into its source and writes the rows into `target`. */
export function createMaterializedView(ctx: DdlContext, view: Relation, target: Relation, select: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(target)} AS\n${stripTrailingSemicolon(select)}`;
}

/** A materialized view's new SELECT, in one statement (capabilities.alterMaterializedViewQuery). */
export function modifyMaterializedViewQuery(ctx: DdlContext, view: Relation, select: string): string {
  return `ALTER TABLE ${rel(view)}${onCluster(ctx)} MODIFY QUERY\n${stripTrailingSemicolon(select)}`;
}

/** The statement that would create `relation`, as the server formats it (one row, column `statement`). */
export function showCreate(relation: Relation): string {
  return `SHOW CREATE TABLE ${rel(relation)}`;
}

/**
 * The SELECT of a SHOW CREATE of a view or materialized view, whitespace collapsed: the server
 * formats both the same way, so two of them are equal exactly when the queries are.
 */
export function selectOfCreate(statement: string): string {
  const as = /\sAS\s/.exec(statement);
  const open = statement.indexOf('(');
  let from = as ? as.index : 0;
  if (open >= 0 && (!as || open < as.index)) {
    // Skip the column list, whose types may hold parentheses of their own.
    let depth = 0;
    for (let i = open; i < statement.length; i++) {
      if (statement[i] === '(') depth++;
      else if (statement[i] === ')' && --depth === 0) {
        from = i + 1;
        break;
      }
    }
  }
  return statement.slice(from).replace(/^\s*AS\s/, '').replace(/\s+/g, ' ').trim();
}

/** True when a SHOW CREATE of a materialized view names `target` after TO. */
export function createWritesTo(statement: string, target: Relation): boolean {
  const plain = statement.replace(/`/g, '');
  return new RegExp(`\\sTO\\s+${escapeRegExp(`${target.database}.${target.name}`)}[\\s(]`).test(`${plain} `);
}
