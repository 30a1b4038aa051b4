import * as ddl from '../adapters/ddl.js';
import { checkContract } from './defined-table.js';
import { runHooks } from './hooks.js';
import { tempRelation, type MaterializationStrategy } from './materialization.js';
import { buildThenSwap } from './swap.js';

/**
 * `CREATE OR REPLACE VIEW` where the server has it and the relation is a view (or absent);
 * otherwise the view is created under a temporary name and swapped in like a table.
 *
 * Crash safety (issue 12): pre_hook…; either the one CREATE OR REPLACE VIEW, or CREATE VIEW tmp
 * and the swap (swap.ts); post_hook…. A view holds no rows, so a kill anywhere leaves the old
 * definition or the new one plus scratch views the next run drops; the rerun defines it again.
 */
export const viewMaterialization: MaterializationStrategy = {
  name: 'view',
  async run(ctx) {
    const d = ctx.warehouse.ddl;
    const sql = ctx.sql({ isIncremental: false });
    // A view's contract is its column names and types (as in dbt: constraints need a table).
    if (ctx.table?.contract) await checkContract(ctx, ctx.table.contract, sql);
    await runHooks(ctx, 'pre_hook');
    if (d.capabilities.createOrReplaceView && (!ctx.existing || ctx.existing.isView)) {
      await ctx.warehouse.execute(ddl.createView(d, ctx.relation, sql, { orReplace: true }));
    } else {
      const temp = tempRelation(ctx.relation, ctx.runId);
      await buildThenSwap(ctx, temp, () => ctx.warehouse.execute(ddl.createView(d, temp, sql, { orReplace: false })));
    }
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: null, message: `created view ${ctx.relation.database}.${ctx.relation.name}` };
  },
};
