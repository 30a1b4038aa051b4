import type { MaterializeContext } from './materialization.js';

/**
 * pre_hooks run before the model's first statement, post_hooks after the statement that publishes
 * it. A kill between them and a rerun runs the hooks again (the rerun cannot tell a hook that ran
 * from one that did not), so hooks run at least once per completed run and must be idempotent:
 * `CREATE … IF NOT EXISTS`, `OPTIMIZE`, an INSERT guarded by what is already there.
 */
export async function runHooks(ctx: MaterializeContext, kind: 'pre_hook' | 'post_hook'): Promise<void> {
  for (const sql of ctx.hooks(kind)) {
    if (sql.trim()) await ctx.warehouse.execute(sql);
  }
}
