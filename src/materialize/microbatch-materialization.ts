import * as ddl from '../adapters/ddl.js';
import { batchPartitionExpression, batchPartitionId, batchSelect, dropPartitionId } from '../adapters/microbatch-sql.js';
import type { MicrobatchSpec } from '../compile/model-kind.js';
import { KilnError } from '../errors.js';
import { checkContract, checkExistingTable, createDefinedTable } from './defined-table.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializeContext, type MaterializeResult } from './materialization.js';
import { batchesToRun, type Batch } from './microbatch-batches.js';
import { buildThenSwap } from './swap.js';

/**
 * incremental_strategy='microbatch' (dbt 1.9): the model runs once per batch of event time, its
 * upstream refs that configure `event_time` filtered to the batch, its rows kept to the batch.
 *
 * The table is partitioned by batch, so each batch is published in one statement. A first build
 * (or --full-refresh) fills every batch from `begin` into a scratch table and swaps it in like a
 * table: killed before the swap, the rerun starts over; after it, the table is whole. Later runs
 * replace each batch (the current one and `lookback` before it, or the --event-time-start/-end
 * window, or the batches `kiln retry` names): CREATE scratch AS target; INSERT the batch's rows;
 * a count; ★ REPLACE PARTITION … FROM scratch (DROP PARTITION when the batch has no rows); DROP
 * scratch. Killed anywhere, every batch is the old or the new one; the rerun replaces the same
 * batches with the same rows. A failing batch fails alone: the others are published, and
 * run_results.json lists it under batch_results.failed for `kiln retry`.
 * With a table definition (defined-table.ts) the first build creates the table with it (contract
 * columns, codecs, TTLs, indexes, projections, CHECKs) and each batch's scratch table copies it;
 * an enforced contract is checked against the batches' SELECT, and on a later run against the
 * existing table too, before the first statement that writes.
 */
export async function runMicrobatch(ctx: MaterializeContext, spec: MicrobatchSpec): Promise<MaterializeResult> {
  const d = ctx.warehouse.ddl;
  const now = new Date();
  const firstBuild = ctx.existing === undefined || ctx.fullRefresh;
  const window = ctx.batches;
  const planned =
    window?.retry && !firstBuild
      ? window.retry
      : batchesToRun({
          size: spec.batchSize,
          now,
          firstBuild,
          lookback: spec.lookback,
          ...(spec.begin ? { begin: spec.begin } : {}),
          ...(window?.eventTimeStart ? { eventTimeStart: window.eventTimeStart } : {}),
          ...(window?.eventTimeEnd ? { eventTimeEnd: window.eventTimeEnd } : {}),
        });
  if (planned === 'needs-begin') {
    throw new KilnError('CONFIG_INVALID', `microbatch model '${ctx.node.name}' needs begin for its first build`, {
      location: { file: ctx.node.original_file_path },
      hint: "config(begin='2025-01-01'), or give the window with --event-time-start",
    });
  }
  const options = { ...tableOptions(ctx.node.config), partition_by: batchPartitionExpression(spec.eventTime, spec.batchSize) };
  const batchSql = (b: Batch) => batchSelect(ctx.sql({ isIncremental: !firstBuild, batch: b }), spec.eventTime, b.start, b.end);
  const successful: Batch[] = [];
  const failed: Array<Batch & { readonly message: string }> = [];
  const attempt = async (b: Batch, work: () => Promise<void>) => {
    try {
      await work();
      successful.push(b);
    } catch (err) {
      if (err instanceof KilnError && err.code === 'TARGET_LOCK_LOST') throw err;
      failed.push({ ...b, message: (err as Error).message });
    }
  };
  let rows = 0;
  const def = ctx.table;
  const shape = planned[0] ?? { start: now, end: now };
  if (def?.contract) {
    // Before anything changes: the batches' rows and (on a later run) the table they replace slices of.
    const expected = await checkContract(ctx, def.contract, batchSql(shape));
    if (!firstBuild) await checkExistingTable(ctx, expected);
  }
  await runHooks(ctx, 'pre_hook');
  if (firstBuild) {
    const temp = tempRelation(ctx.relation, ctx.runId);
    await buildThenSwap(ctx, temp, async () => {
      // A table definition (contract, codecs, indexes, …) makes the table; later batches copy it with CREATE … AS.
      const columns = def ? await createDefinedTable(ctx, def, temp, batchSql(shape), options) : undefined;
      if (!def) await ctx.warehouse.execute(ddl.createTableLike(d, temp, batchSql(shape), options));
      const insert = (b: Batch) => (columns ? ddl.insertSelectColumns(temp, batchSql(b), columns) : ddl.insertSelect(temp, batchSql(b)));
      for (const b of planned) await attempt(b, async () => void (await ctx.warehouse.execute(insert(b))));
      rows = await ctx.warehouse.countRows(temp);
    });
  } else {
    const columns = (await ctx.warehouse.columns(ctx.relation)).map((c) => c.name);
    for (const b of planned) {
      const pid = batchPartitionId(b.start, spec.batchSize);
      const scratch = tempRelation(ctx.relation, `${ctx.runId}_${pid}`);
      await attempt(b, async () => {
        try {
          await ctx.warehouse.createEmptyCopy(scratch, ctx.relation);
          await ctx.warehouse.execute(ddl.insertSelectColumns(scratch, batchSql(b), columns));
          const n = await ctx.warehouse.countRows(scratch);
          if (n > 0) await ctx.warehouse.replacePartitions(scratch, ctx.relation, [pid]);
          else await ctx.warehouse.execute(dropPartitionId(d, ctx.relation, pid));
          rows += n;
        } finally {
          await ctx.warehouse.execute(ddl.dropRelation(d, scratch)).catch(() => undefined);
        }
      });
    }
  }
  await runHooks(ctx, 'post_hook');
  const where = `${ctx.relation.database}.${ctx.relation.name}`;
  return {
    rowsAffected: rows,
    message: failed.length
      ? `${failed.length} of ${planned.length} batches of ${where} failed; first: ${failed[0]!.message}`
      : `${firstBuild ? 'built' : 'replaced'} ${planned.length} batch${planned.length === 1 ? '' : 'es'} of ${where}`,
    batches: { successful, failed },
  };
}
