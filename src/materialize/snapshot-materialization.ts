import * as ddl from '../adapters/ddl.js';
import { checkTableAs, createStandIn } from '../adapters/shadow-sql.js';
import { firstSnapshotSelect, nextSnapshotSelect, snapshotTimeLiteral } from '../adapters/snapshot-sql.js';
import { KilnError } from '../errors.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializationStrategy } from './materialization.js';
import { buildThenSwap } from './swap.js';

/**
 * A snapshot (SCD type 2, as dbt's): each run computes the whole next version of the history —
 * the old rows, current ones closed where their source row changed or left, new current rows —
 * into a scratch table, then swaps it in with the table materialization's swap.
 *
 * Crash safety, statements in order: pre_hook…; a read of the table's columns; CREATE TABLE tmp
 * AS <next version>; a count; the swap (one EXCHANGE or RENAME publishes, then a DROP of the old
 * version under a scratch name); post_hook…. The history changes only in the publishing
 * statement. A kill before it leaves the old history, and the rerun computes the same next
 * version from it; a kill after it leaves the new history, which the rerun finds up to date (no
 * source row is newer than its current row), so it adds nothing. Either way the history ends as
 * one clean run leaves it. (With the check strategy, or a row closed by a hard delete, the times
 * written are the run's snapshot time: a rerun writes its own time, the same rows.)
 *
 * `--full-refresh` does not rebuild a snapshot: its history cannot be recomputed (as in dbt).
 */
export const snapshotMaterialization: MaterializationStrategy = {
  name: 'snapshot',
  async run(ctx) {
    const { kind } = ctx;
    if (kind.materialized !== 'snapshot') throw new KilnError('INTERNAL', `${ctx.node.unique_id} is not a snapshot`);
    if (ctx.existing?.isView) {
      throw new KilnError('SQL_ERROR', `${ctx.relation.database}.${ctx.relation.name} is a view, not a snapshot table`, {
        location: { file: ctx.node.original_file_path },
        hint: 'drop the view (or rename the snapshot) so the snapshot can create its table',
      });
    }
    const now = snapshotTimeLiteral(new Date());
    const sql = ctx.sql({ isIncremental: false });
    const temp = tempRelation(ctx.relation, ctx.runId);
    await runHooks(ctx, 'pre_hook');
    let before = 0;
    let after = 0;
    await buildThenSwap(ctx, temp, async () => {
      let select: string;
      if (ctx.existing) {
        const columns = await ctx.warehouse.columns(ctx.relation);
        before = await ctx.warehouse.countRows(ctx.relation);
        select = nextSnapshotSelect(kind, sql, ctx.relation, columns, now);
      } else {
        select = firstSnapshotSelect(kind, sql, now);
      }
      for (const statement of ddl.createTableFromSelect(ctx.warehouse.ddl, temp, select, tableOptions(ctx.node.config))) await ctx.warehouse.execute(statement);
      after = await ctx.warehouse.countRows(temp);
    });
    await runHooks(ctx, 'post_hook');
    const added = after - before;
    return {
      rowsAffected: added,
      message: `${ctx.existing ? 'snapshotted' : 'created snapshot'} ${ctx.relation.database}.${ctx.relation.name} (${added} new row${added === 1 ? '' : 's'})`,
    };
  },
  async check(ctx) {
    const { kind } = ctx;
    if (kind.materialized !== 'snapshot') throw new KilnError('INTERNAL', `${ctx.node.unique_id} is not a snapshot`);
    const now = snapshotTimeLiteral(new Date());
    const sql = ctx.sql({ isIncremental: false });
    const options = tableOptions(ctx.node.config);
    if (!ctx.existing || ctx.existing.isView) {
      for (const statement of checkTableAs(ctx.warehouse.ddl, ctx.relation, firstSnapshotSelect(kind, sql, now), options)) await ctx.warehouse.execute(statement);
      return;
    }
    // The history as it stands is a stand-in (readers downstream see it); the next version is checked beside it.
    const columns = await ctx.warehouse.columns(ctx.existing);
    await ctx.warehouse.execute(createStandIn(ctx.relation, columns));
    const next = { database: ctx.relation.database, name: `${ctx.relation.name}#next` };
    for (const statement of checkTableAs(ctx.warehouse.ddl, next, nextSnapshotSelect(kind, sql, ctx.relation, columns, now), options)) await ctx.warehouse.execute(statement);
  },
};
