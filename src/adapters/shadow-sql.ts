import { createTableAs, createTable, createView, rel, storageClause, stripTrailingSemicolon, type DdlContext, type Relation, type TableOptions } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * SQL of validation's shadow database (issue 16): a scratch database where each selected model is
 * created from its own SQL over empty stand-ins of its inputs, so ClickHouse checks every name,
 * function, type and table option before a run changes anything. Nothing in it holds a row.
 */

export const SHADOW_PREFIX = '_kiln_validate_';

/** `_kiln_validate_<run id>`. */
export function shadowDatabaseName(runId: string): string {
  return `${SHADOW_PREFIX}${runId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The shadow is never ON CLUSTER: it lives on the node kiln talks to, for one invocation. */
const local = (ctx: DdlContext): DdlContext => ({ capabilities: ctx.capabilities });

/** A Memory database keeps the shadow off disk where ClickHouse lets it hold every engine. */
export function createShadowDatabase(ctx: DdlContext, name: string): string {
  return `CREATE DATABASE ${quoteIdentifier(name)}${ctx.capabilities.emptyAsSelect ? ' ENGINE = Memory' : ''}`;
}

export function dropShadowDatabase(name: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdentifier(name)}`;
}

export function listShadowDatabases(): string {
  return `SELECT name FROM system.databases WHERE startsWith(name, ${quoteString(SHADOW_PREFIX)})`;
}

/** An empty stand-in for an input (a source's raw table, a relation this run does not build). */
export function createStandIn(target: Relation, columns: ReadonlyArray<{ readonly name: string; readonly type: string }>): string {
  const cols = columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
  return `CREATE TABLE ${rel(target)} (${cols}) ENGINE = Memory`;
}

/**
 * The table a model builds, in the shadow: its SQL and its table options. Where the server has
 * `EMPTY AS`, the run's own CREATE TABLE … AS with the SELECT analysed, not run. Elsewhere a view
 * of the SELECT (analysed, not run: a model may read big tables or throw on some row) and a table
 * with its columns and the model's options: two statements.
 */
export function checkTableAs(ctx: DdlContext, target: Relation, select: string, opts: TableOptions): readonly string[] {
  if (ctx.capabilities.emptyAsSelect) return [createTableAs(local(ctx), target, select, opts, { empty: true })];
  const view = { database: target.database, name: `${target.name}#select` };
  return [createView(local(ctx), view, select, { orReplace: false }), `CREATE TABLE ${rel(target)} AS ${rel(view)}\n${storageClause(opts)}`];
}

/** A view of the model's SQL in the shadow: ClickHouse analyses the SELECT to learn its columns. */
export function checkView(ctx: DdlContext, target: Relation, select: string): string {
  return createView(local(ctx), target, select, { orReplace: false });
}

/** A table with declared columns (a seed's) in the shadow: checks the types and the table options. */
export function checkTable(ctx: DdlContext, target: Relation, columns: ReadonlyArray<{ name: string; type: string }>, opts: TableOptions): string {
  return createTable(local(ctx), target, columns, opts);
}

/**
 * ClickHouse names the shadow's stand-ins in its messages (`_kiln_validate_x`.`db.t`); the reader
 * knows `db.t`. A syntax error quotes the token it failed at, the shadow database alone, before the
 * stand-in (failed at '`_kiln_validate_x`': …): that token is the real database, as a run reports it.
 */
export function withRealNames(message: string): string {
  return message
    .replace(new RegExp(`\`?${SHADOW_PREFIX}\\w+\`?\\.\`([^\`.]+)\\.([^\`]+)\``, 'g'), (_m, db: string, name: string) => `${db}.${name}`)
    .replace(new RegExp(`'\`?${SHADOW_PREFIX}\\w+\`?'(?=: ([^\`.\\s]+)\\.)`, 'g'), (_m, db: string) => `'\`${db}\`'`);
}

/** A statement parsed, not run: hooks may write anywhere, so they are only parse-checked. */
export function parseOnly(statement: string): string {
  return `EXPLAIN AST ${stripTrailingSemicolon(statement)}`;
}
