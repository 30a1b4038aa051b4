import type { ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { SqlError } from '../adapters/sql-error.js';
import { materializedViewName, materializedViewParts } from '../compile/materialized-view-parts.js';
import { KilnError } from '../errors.js';
import { checkContract, contractDiff, createDefinedTable } from './defined-table.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializationStrategy, type MaterializeContext, type MaterializeResult } from './materialization.js';
import { buildThenSwap } from './swap.js';

/** Errors of a server that cannot MODIFY QUERY after all: syntax, not implemented, support disabled. */
const NO_MODIFY_QUERY = new Set([62, 48, 344]);

interface View {
  readonly relation: ddl.Relation;
  readonly sql: string;
}

/**
 * `materialized_view`: the model's table `<name>` plus ClickHouse materialized views
 * `<name>_mv` (or `<name>_<part>` for each `--<part>:begin/end` block) `TO <name>`, which add the
 * model's rows for every block later inserted into their sources.
 *
 * Exactly once rests on the target lock: kiln's own loads (stage, seed, runs) write only while
 * they hold it, and so does this, so no kiln insert lands between a backfill and the moment the
 * views exist. Writers outside kiln are not held back by the lock; see README "Materialized views".
 *
 * Statements, in order:
 *   a. first build, --full-refresh, a view or the table missing, or a changed SELECT that the
 *      server cannot MODIFY QUERY (18.16) or whose columns no longer fit the table — rebuild:
 *        pre_hook…; DROP each view of the model (and each view of an earlier part list still
 *        writing to the table); CREATE TABLE tmp (the model's columns, empty);
 *        INSERT INTO tmp <model> (the backfill, unless catchup=false); the swap (swap.ts);
 *        CREATE MATERIALIZED VIEW each TO <name>; post_hook….
 *      A kill before the last CREATE leaves the table without (all of) its views, which the rerun
 *      takes for an unfinished build and rebuilds from the sources again, so the rows a view
 *      missed while absent are counted then, once.
 *   b. a changed SELECT on a server with MODIFY QUERY, the table's columns unchanged:
 *        pre_hook…; ALTER TABLE <view> MODIFY QUERY … for each changed view; post_hook….
 *      Each statement switches one view with no moment where inserts go unseen; the table keeps
 *      its rows (computed by the old SELECT), as dbt-clickhouse does. --full-refresh recomputes.
 *   c. nothing changed: no statement but the reads.
 * With a table definition (defined-table.ts) the target is created with it as a table's is; an
 * enforced contract is checked against each view's SELECT before any statement, and a target
 * whose columns no longer fit the contract is rebuilt (a).
 * Whether a SELECT changed is asked of the server: a scratch view with the new SELECT is created
 * and the two SHOW CREATE texts compared (the server formats both alike), then dropped.
 */
export const materializedViewMaterialization: MaterializationStrategy = {
  name: 'materialized_view',
  async run(ctx) {
    if (ctx.kind.materialized !== 'materialized_view') throw new KilnError('INTERNAL', `${ctx.node.unique_id} is not a materialized_view`);
    const catchup = ctx.kind.catchup;
    const sql = ctx.sql({ isIncremental: false });
    const views = materializedViewParts(sql, { file: ctx.node.original_file_path }).map(
      (part): View => ({ relation: { database: ctx.relation.database, name: materializedViewName(ctx.relation.name, part) }, sql: part.sql }),
    );
    const present = await ctx.warehouse.listRelations([ctx.relation.database]);
    const engineOf = (r: ddl.Relation) => present.find((p) => p.name === r.name)?.engine;
    for (const v of views) {
      const engine = engineOf(v.relation);
      if (engine !== undefined && engine !== 'MaterializedView') {
        throw new KilnError('SQL_ERROR', `${v.relation.database}.${v.relation.name} exists and is a ${engine}, not a materialized view`, {
          location: { file: ctx.node.original_file_path },
          hint: `kiln names the model's materialized views <model>_mv (or <model>_<name> per --<name>:begin block); rename or drop that relation`,
        });
      }
    }
    const complete = ctx.existing !== undefined && !ctx.existing.isView && engineOf(ctx.relation) !== 'MaterializedView' && views.every((v) => engineOf(v.relation) === 'MaterializedView');
    const stale = await staleViews(ctx, present, views);
    if (ctx.refeedOnly) {
      if (ctx.existing === undefined) return { rowsAffected: 0, message: `materialized view ${name(ctx)} not built yet (kiln run builds it)` };
      if (complete && stale.length === 0) return { rowsAffected: 0, message: `materialized view ${name(ctx)}: its views saw every load` };
    }
    // An enforced contract, before anything changes: every view's SELECT gives the contract's columns.
    const contract = ctx.table?.contract;
    let expected: readonly ColumnInfo[] | undefined;
    for (const v of contract ? views : []) expected = await checkContract(ctx, contract!, v.sql);
    // A table built before the contract (or before it changed) no longer fits it: rebuilt.
    const fitsContract = !expected || !complete || contractDiff(expected, await ctx.warehouse.columns(ctx.relation)).length === 0;

    if (!ctx.fullRefresh && complete && stale.length === 0 && fitsContract) {
      const changed = await changedViews(ctx, views);
      if (changed.length === 0) return { rowsAffected: 0, message: `materialized view ${name(ctx)} unchanged` };
      if (ctx.warehouse.ddl.capabilities.alterMaterializedViewQuery && (await columnsFit(ctx, sql))) {
        const modified = await modifyQueries(ctx, changed);
        if (modified) return modified;
      }
    }
    return rebuild(ctx, sql, views, [...stale, ...views.filter((v) => engineOf(v.relation) !== undefined).map((v) => v.relation)], catchup);
  },
};

function name(ctx: MaterializeContext): string {
  return `${ctx.relation.database}.${ctx.relation.name}`;
}

async function rebuild(ctx: MaterializeContext, sql: string, views: readonly View[], drop: readonly ddl.Relation[], catchup: boolean): Promise<MaterializeResult> {
  const d = ctx.warehouse.ddl;
  const temp = tempRelation(ctx.relation, ctx.runId);
  let rows = 0;
  await runHooks(ctx, 'pre_hook');
  for (const view of drop) await ctx.warehouse.execute(ddl.dropRelation(d, view));
  await buildThenSwap(ctx, temp, async () => {
    // A table definition (contract, codecs, TTLs, indexes, projections, CHECKs) makes the target as it makes a table's.
    const columns = ctx.table ? await createDefinedTable(ctx, ctx.table, temp, sql, tableOptions(ctx.node.config)) : undefined;
    if (!columns) await ctx.warehouse.execute(ddl.createTableLike(d, temp, sql, tableOptions(ctx.node.config)));
    if (catchup) {
      await ctx.warehouse.execute(columns ? ddl.insertSelectColumns(temp, sql, columns) : ddl.insertSelect(temp, sql));
      rows = await ctx.warehouse.countRows(temp);
    }
  });
  for (const view of views) await ctx.warehouse.execute(ddl.createMaterializedView(d, view.relation, ctx.relation, view.sql));
  await runHooks(ctx, 'post_hook');
  const fed = views.map((v) => v.relation.name).join(', ');
  return { rowsAffected: rows, message: `created table ${name(ctx)} fed by materialized view${views.length > 1 ? 's' : ''} ${fed}${catchup ? '' : ' (no backfill)'}` };
}

async function modifyQueries(ctx: MaterializeContext, changed: readonly View[]): Promise<MaterializeResult | null> {
  const d = ctx.warehouse.ddl;
  await runHooks(ctx, 'pre_hook');
  for (const [i, view] of changed.entries()) {
    try {
      await ctx.warehouse.execute(ddl.modifyMaterializedViewQuery(d, view.relation, view.sql));
    } catch (err) {
      // A server whose version promises MODIFY QUERY but refuses it: rebuild instead (nothing changed yet).
      if (i === 0 && err instanceof SqlError && err.clickhouseCode !== undefined && NO_MODIFY_QUERY.has(err.clickhouseCode)) return null;
      throw err;
    }
  }
  await runHooks(ctx, 'post_hook');
  return { rowsAffected: 0, message: `modified the query of ${changed.map((v) => v.relation.name).join(', ')} into ${name(ctx)}` };
}

/** The model's views whose SELECT on the server differs from the model's. */
async function changedViews(ctx: MaterializeContext, views: readonly View[]): Promise<View[]> {
  const d = ctx.warehouse.ddl;
  const changed: View[] = [];
  for (const [i, view] of views.entries()) {
    const probe = tempRelation(ctx.relation, `${ctx.runId}_q${i}`);
    await ctx.warehouse.execute(ddl.createView(d, probe, view.sql, { orReplace: false }));
    try {
      const wanted = ddl.selectOfCreate(await showCreate(ctx, probe));
      const actual = ddl.selectOfCreate(await showCreate(ctx, view.relation));
      if (wanted !== actual) changed.push(view);
    } finally {
      await ctx.warehouse.execute(ddl.dropRelation(d, probe));
    }
  }
  return changed;
}

async function showCreate(ctx: MaterializeContext, relation: ddl.Relation): Promise<string> {
  const r = await ctx.warehouse.query<{ statement: string }>(ddl.showCreate(relation));
  return r.rows[0]?.statement ?? '';
}

/** True when the model's SELECT gives the table's columns (names and types, in order). */
async function columnsFit(ctx: MaterializeContext, sql: string): Promise<boolean> {
  const produced = (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows;
  const existing = await ctx.warehouse.columns(ctx.relation);
  return produced.length === existing.length && produced.every((c, i) => c.name === existing[i]!.name && c.type === existing[i]!.type);
}

/** Materialized views named `<model>_…` that write into the table but are no longer among the model's views. */
async function staleViews(ctx: MaterializeContext, present: ReadonlyArray<{ name: string; engine: string }>, views: readonly View[]): Promise<ddl.Relation[]> {
  const wanted = new Set(views.map((v) => v.relation.name));
  const out: ddl.Relation[] = [];
  for (const p of present) {
    if (p.engine !== 'MaterializedView' || wanted.has(p.name) || !p.name.startsWith(`${ctx.relation.name}_`)) continue;
    const relation = { database: ctx.relation.database, name: p.name };
    if (ddl.createWritesTo(await showCreate(ctx, relation), ctx.relation)) out.push(relation);
  }
  return out;
}
