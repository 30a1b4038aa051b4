import * as ddl from '../adapters/ddl.js';
import { SqlError } from '../adapters/sql-error.js';
import { oldRelation, type MaterializeContext } from './materialization.js';

const NOT_IMPLEMENTED = 48;

/**
 * Puts a fully built `built` relation in place of `ctx.relation` so readers never see it
 * missing or half-built: EXCHANGE TABLES where the server can, otherwise one RENAME statement
 * that moves the old one aside and the new one in. The old relation is dropped afterwards.
 */
export async function swapIn(ctx: MaterializeContext, built: ddl.Relation): Promise<void> {
  const d = ctx.adapter.ddl;
  const target = ctx.relation;
  if (!ctx.existing) {
    await ctx.exec(ddl.renameTables(d, [[built, target]]));
    return;
  }
  if (d.capabilities.exchangeTables) {
    try {
      await ctx.exec(ddl.exchangeTables(d, built, target));
      await ctx.exec(ddl.dropRelation(d, built));
      return;
    } catch (err) {
      // An Ordinary database cannot exchange; fall through to the rename pair.
      if (!(err instanceof SqlError && err.clickhouseCode === NOT_IMPLEMENTED)) throw err;
    }
  }
  const old = oldRelation(target, ctx.runId);
  await ctx.exec(ddl.renameTables(d, [[target, old], [built, target]]));
  await ctx.exec(ddl.dropRelation(d, old));
}

/** Runs `build` against a temporary relation; on failure drops it so nothing is left behind. */
export async function buildThenSwap(ctx: MaterializeContext, temp: ddl.Relation, build: () => Promise<void>): Promise<void> {
  try {
    await build();
    await swapIn(ctx, temp);
  } catch (err) {
    await ctx.exec(ddl.dropRelation(ctx.adapter.ddl, temp)).catch(() => undefined);
    throw err;
  }
}
