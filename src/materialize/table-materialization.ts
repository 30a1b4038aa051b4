import * as ddl from '../adapters/ddl.js';
import { checkTableAs, checkView } from '../adapters/shadow-sql.js';
import { buildDefinedTable, checkContract } from './defined-table.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializationStrategy } from './materialization.js';
import { buildThenSwap } from './swap.js';

/**
 * A table is built whole under a temporary name and swapped in atomically.
 *
 * Crash safety (issue 12), statements in order: pre_hook…; CREATE TABLE tmp AS <model>; a count
 * (read); the swap (swap.ts: one EXCHANGE or RENAME publishes, then a DROP of the old rows under
 * a scratch name); post_hook…. The target changes only in that one statement: a kill before it
 * leaves the old table (or none) and a scratch table, a kill after it the new table and perhaps
 * the old one under a scratch name. The next run drops the scratch relations and builds the table
 * again from the model, so it ends as a clean run does. Hooks run again on the rerun, so they
 * must be idempotent.
 * A model with a table definition (defined-table.ts) first checks its contract (a scratch Memory
 * table and two reads: a mismatch fails here, before anything is built), then builds tmp with
 * CREATE TABLE tmp (columns, indexes, …) and INSERT INTO tmp SELECT … instead of CREATE … AS.
 */
export const tableMaterialization: MaterializationStrategy = {
  name: 'table',
  async run(ctx) {
    const temp = tempRelation(ctx.relation, ctx.runId);
    const sql = ctx.sql({ isIncremental: false });
    let rows = 0;
    const def = ctx.table;
    if (def?.contract) await checkContract(ctx, def.contract, sql);
    await runHooks(ctx, 'pre_hook');
    await buildThenSwap(ctx, temp, async () => {
      if (def) await buildDefinedTable(ctx, def, temp, sql);
      else for (const statement of ddl.createTableFromSelect(ctx.warehouse.ddl, temp, sql, tableOptions(ctx.node.config))) await ctx.warehouse.execute(statement);
      rows = await ctx.warehouse.countRows(temp);
    });
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: rows, message: `created table ${ctx.relation.database}.${ctx.relation.name}` };
  },
  async check(ctx) {
    const sql = ctx.sql({ isIncremental: false });
    // A defined table's columns come from its contract, not the SELECT, and its contract and
    // CHECK constraints are the run's to check (exit 1 before the swap): only the SELECT here.
    if (ctx.table) await ctx.warehouse.execute(checkView(ctx.warehouse.ddl, ctx.relation, sql));
    else for (const statement of checkTableAs(ctx.warehouse.ddl, ctx.relation, sql, tableOptions(ctx.node.config))) await ctx.warehouse.execute(statement);
  },
};
