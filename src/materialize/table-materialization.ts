import * as ddl from '../adapters/ddl.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializationStrategy } from './materialization.js';
import { buildThenSwap } from './swap.js';

/** A table is built whole under a temporary name and swapped in atomically. */
export const tableMaterialization: MaterializationStrategy = {
  name: 'table',
  async run(ctx) {
    const temp = tempRelation(ctx.relation, ctx.runId);
    const sql = ctx.sql({ isIncremental: false });
    let rows = 0;
    await runHooks(ctx, 'pre_hook');
    await buildThenSwap(ctx, temp, async () => {
      await ctx.warehouse.execute(ddl.createTableAs(ctx.warehouse.ddl, temp, sql, tableOptions(ctx.node.config)));
      rows = await ctx.warehouse.countRows(temp);
    });
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: rows, message: `created table ${ctx.relation.database}.${ctx.relation.name}` };
  },
};
