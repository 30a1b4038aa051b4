import * as ddl from '../adapters/ddl.js';
import { SqlError } from '../adapters/sql-error.js';
import { oldRelation, type MaterializeContext } from './materialization.js';

const NOT_IMPLEMENTED = 48;

/** What a swap needs: the ClickHouse DDL context and a way to run statements. */
export interface SwapTarget {
  readonly ddl: ddl.DdlContext;
  exec(sql: string): Promise<unknown>;
}

/**
 * Puts a fully built `built` relation in place of `target` so readers never see it missing or
 * half-built: EXCHANGE TABLES where the server can, otherwise one RENAME statement that moves
 * the old one aside (to `old`) and the new one in. The old relation is dropped afterwards.
 */
export async function swapRelations(
  s: SwapTarget,
  built: ddl.Relation,
  target: ddl.Relation,
  opts: { readonly targetExists: boolean; readonly old: ddl.Relation },
): Promise<void> {
  const d = s.ddl;
  if (!opts.targetExists) {
    await s.exec(ddl.renameTables(d, [[built, target]]));
    return;
  }
  if (d.capabilities.exchangeTables) {
    try {
      await s.exec(ddl.exchangeTables(d, built, target));
      await s.exec(ddl.dropRelation(d, built));
      return;
    } catch (err) {
      // An Ordinary database cannot exchange; fall through to the rename pair.
      if (!(err instanceof SqlError && err.clickhouseCode === NOT_IMPLEMENTED)) throw err;
    }
  }
  await s.exec(ddl.renameTables(d, [[target, opts.old], [built, target]]));
  await s.exec(ddl.dropRelation(d, opts.old));
}

/** swapRelations for a materialization: the node's relation, as it stood when the run started. */
export function swapIn(ctx: MaterializeContext, built: ddl.Relation): Promise<void> {
  return swapRelations({ ddl: ctx.adapter.ddl, exec: (sql) => ctx.exec(sql) }, built, ctx.relation, {
    targetExists: ctx.existing !== undefined,
    old: oldRelation(ctx.relation, ctx.runId),
  });
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
