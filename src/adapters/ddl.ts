import type { Capabilities } from './capabilities.js';
import { qualifiedName, quoteIdentifier, sqlLiteral } from './quoting.js';

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

export interface DdlContext {
  readonly capabilities: Capabilities;
  readonly cluster?: string;
}

export const rel = (r: Relation): string => qualifiedName(r.database, r.name);
const onCluster = (ctx: DdlContext) => (ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : '');

function expressionList(value: string | readonly string[]): string {
  if (typeof value === 'string') return value;
  return value.length === 1 ? value[0]! : `(${value.join(', ')})`;
}

/** `ENGINE = … PARTITION BY … ORDER BY … PRIMARY KEY … TTL … SETTINGS …` (the order 18.16 accepts too). */
export function storageClause(opts: TableOptions): string {
  const engine = opts.engine?.trim() || 'MergeTree()';
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

export function createTableAs(ctx: DdlContext, target: Relation, select: string, opts: TableOptions): string {
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n${storageClause(opts)}\nAS ${stripTrailingSemicolon(select)}`;
}

/** An empty table with the columns `select` would produce. */
export function createTableLike(ctx: DdlContext, target: Relation, select: string, opts: TableOptions): string {
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n${storageClause(opts)}\nAS SELECT * FROM (
${stripTrailingSemicolon(select)}
) LIMIT 0`;
}

export function createTable(ctx: DdlContext, target: Relation, columns: ReadonlyArray<{ name: string; type: string }>, opts: TableOptions): string {
  const cols = columns.map((c) => `  ${quoteIdentifier(c.name)} ${c.type}`).join(',\n');
  return `CREATE TABLE ${rel(target)}${onCluster(ctx)}\n(\n${cols}\n)\n${storageClause(opts)}`;
}

export function createView(ctx: DdlContext, target: Relation, select: string, opts: { orReplace: boolean }): string {
  const head = opts.orReplace ? 'CREATE OR REPLACE VIEW' : 'CREATE VIEW';
  return `${head} ${rel(target)}${onCluster(ctx)} AS\n${stripTrailingSemicolon(select)}`;
}

export function insertSelect(target: Relation, select: string, columns?: readonly string[]): string {
  const cols = columns ? ` (${columns.map(quoteIdentifier).join(', ')})` : '';
  return `INSERT INTO ${rel(target)}${cols}\n${stripTrailingSemicolon(select)}`;
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

export function countRows(target: Relation): string {
  return `SELECT count() AS n FROM ${rel(target)}`;
}

export function stripTrailingSemicolon(sql: string): string {
  return sql.replace(/;\s*$/, '').replace(/\s+$/, '');
}
