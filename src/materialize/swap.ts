import * as ddl from '../adapters/ddl.js';
import { oldRelation, type MaterializeContext } from './materialization.js';

/**
 * The adapter's swap for a materialization: the node's relation, as it stood when the run started.
 * Statements: no target yet → RENAME built TO target. Otherwise EXCHANGE TABLES built AND target,
 * then DROP built (now the old rows); or, where EXCHANGE is missing (18.16), one RENAME target TO
 * old, built TO target, then DROP old. The EXCHANGE or RENAME is the one statement that publishes;
 * what a kill after it leaves is a scratch relation (`__kiln_tmp__…`/`__kiln_old__…`) that the next
 * run's prepareWarehouse drops (see isLeftoverOf).
 */
export function swapIn(ctx: MaterializeContext, built: ddl.Relation): Promise<void> {
  return ctx.warehouse.swap(built, ctx.relation, {
    targetExists: ctx.existing !== undefined,
    old: oldRelation(ctx.relation, ctx.runId),
  });
}

/** Runs `build` against a temporary relation; on failure drops it so nothing is left behind. */
export async function buildThenSwap(ctx: MaterializeContext, temp: ddl.Relation, build: () => Promise<unknown>): Promise<void> {
  try {
    await build();
    await swapIn(ctx, temp);
  } catch (err) {
    await ctx.warehouse.execute(ddl.dropRelation(ctx.warehouse.ddl, temp)).catch(() => undefined);
    throw err;
  }
}
