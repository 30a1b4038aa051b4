import type { MaterializeContext } from './materialization.js';

export async function runHooks(ctx: MaterializeContext, kind: 'pre_hook' | 'post_hook'): Promise<void> {
  for (const sql of ctx.hooks(kind)) {
    if (sql.trim()) await ctx.warehouse.execute(sql);
  }
}
