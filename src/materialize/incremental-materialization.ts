import { setTimeout as sleep } from 'node:timers/promises';
import type { ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { KilnError } from '../errors.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type Materialization, type MaterializeContext, type MaterializeResult } from './materialization.js';
import { buildThenSwap } from './swap.js';
import { tableMaterialization } from './table-materialization.js';

type Strategy = 'append' | 'insert_overwrite' | 'delete_insert';

/**
 * Incremental models. New rows are always computed into a scratch table first; how they reach
 * the target depends on the strategy, and every path is safe to kill and rerun:
 * - append / delete_insert: the target's parts are cloned by hard links into a copy (cheap, no
 *   data rewritten), the copy is changed, then swapped in like a table. A run killed before the
 *   swap leaves the target untouched; the next run cleans the scratch tables.
 * - insert_overwrite: each partition of the new rows replaces the target's partition with
 *   REPLACE PARTITION, atomic per partition and idempotent, so a rerun converges.
 * Insert deduplication tokens were not used: they only protect a retried identical block, while
 * a rerun recomputes its rows and may cut them into different blocks.
 */
export const incrementalMaterialization: Materialization = {
  name: 'incremental',
  async run(ctx) {
    const config = ctx.node.config;
    const strategy = (config.incremental_strategy ?? 'append') as Strategy;
    validate(ctx, strategy);
    if (!ctx.existing || ctx.fullRefresh || ctx.existing.isView) {
      const built = await tableMaterialization.run(ctx);
      return { ...built, message: `${built.message} (full build)` };
    }
    await runHooks(ctx, 'pre_hook');
    const result = await applyIncrement(ctx, strategy);
    await runHooks(ctx, 'post_hook');
    return result;
  },
};

function validate(ctx: MaterializeContext, strategy: Strategy): void {
  const where = { file: ctx.node.original_file_path };
  if (!['append', 'insert_overwrite', 'delete_insert'].includes(strategy)) {
    throw new KilnError('CONFIG_INVALID', `unknown incremental_strategy '${strategy}'`, { location: where, hint: 'use append, insert_overwrite or delete_insert' });
  }
  if (strategy === 'delete_insert' && uniqueKey(ctx).length === 0) {
    throw new KilnError('CONFIG_INVALID', `incremental_strategy 'delete_insert' needs a unique_key`, { location: where, hint: "config(unique_key='id')" });
  }
  if (strategy === 'insert_overwrite' && !ctx.node.config.partition_by) {
    throw new KilnError('CONFIG_INVALID', `incremental_strategy 'insert_overwrite' needs partition_by`, { location: where, hint: "config(partition_by='toYYYYMM(created_at)')" });
  }
}

function uniqueKey(ctx: MaterializeContext): string[] {
  const k = ctx.node.config.unique_key;
  if (k === undefined || k === null) return [];
  return (Array.isArray(k) ? k : String(k).split(',')).map((s) => String(s).trim()).filter(Boolean);
}

async function applyIncrement(ctx: MaterializeContext, strategy: Strategy): Promise<MaterializeResult> {
  const d = ctx.adapter.ddl;
  const target = ctx.relation;
  const fresh = tempRelation(target, `${ctx.runId}_new`);
  const copy = tempRelation(target, `${ctx.runId}_copy`);
  const sql = ctx.sql({ isIncremental: true });
  const cleanup = async () => {
    for (const r of [fresh, copy]) await ctx.exec(ddl.dropRelation(d, r)).catch(() => undefined);
  };
  try {
    const { insertColumns, added } = await reconcileSchema(ctx, sql);
    await ctx.exec(ddl.createTableAsTable(d, fresh, target));
    if (added.length) await ctx.exec(ddl.addColumns(d, fresh, added));
    await ctx.exec(ddl.insertSelectColumns(fresh, sql, insertColumns));
    const rows = await ctx.adapter.countRows(fresh);
    if (rows === 0 && added.length === 0) {
      await cleanup();
      return { rowsAffected: 0, message: `no new rows for ${target.database}.${target.name}` };
    }

    if (strategy === 'insert_overwrite') {
      if (added.length) await ctx.exec(ddl.addColumns(d, target, added));
      for (const pid of await partitions(ctx, fresh)) await ctx.exec(ddl.replacePartitionFrom(d, target, pid, fresh));
      await cleanup();
      return { rowsAffected: rows, message: `replaced partitions of ${target.database}.${target.name}` };
    }

    await buildThenSwap(ctx, copy, async () => {
      await ctx.exec(ddl.createTableAsTable(d, copy, target));
      for (const pid of await partitions(ctx, target)) await ctx.exec(ddl.attachPartitionFrom(d, copy, pid, target));
      if (added.length) await ctx.exec(ddl.addColumns(d, copy, added));
      if (strategy === 'delete_insert') {
        await ctx.exec(ddl.deleteWhere(d, copy, ddl.keyIn(uniqueKey(ctx), fresh)));
        if (!d.capabilities.lightweightDelete) await waitForMutations(ctx, copy);
      }
      // Same structure as the copy, so the new rows move over as parts (hard links), not rewritten.
      for (const pid of await partitions(ctx, fresh)) await ctx.exec(ddl.attachPartitionFrom(d, copy, pid, fresh));
    });
    await ctx.exec(ddl.dropRelation(d, fresh));
    return { rowsAffected: rows, message: `${strategy === 'append' ? 'appended to' : 'merged into'} ${target.database}.${target.name}` };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Columns the new rows fill, and columns to add, per `on_schema_change`. */
async function reconcileSchema(ctx: MaterializeContext, sql: string): Promise<{ insertColumns: string[]; added: ColumnInfo[] }> {
  const d = ctx.adapter.ddl;
  const probe = tempRelation(ctx.relation, `${ctx.runId}_probe`);
  let produced: ColumnInfo[];
  try {
    await ctx.exec(ddl.createProbe(probe, sql));
    produced = await ctx.adapter.columns(probe);
  } finally {
    await ctx.exec(ddl.dropRelation(d, probe)).catch(() => undefined);
  }
  const existing = await ctx.adapter.columns(ctx.relation);
  const have = new Set(existing.map((c) => c.name));
  const newColumns = produced.filter((c) => !have.has(c.name));
  const missing = existing.filter((c) => !produced.some((p) => p.name === c.name));
  const mode = (ctx.node.config.on_schema_change ?? 'ignore') as string;
  const common = produced.filter((c) => have.has(c.name)).map((c) => c.name);
  if (mode === 'fail' && (newColumns.length || missing.length)) {
    const parts = [
      newColumns.length ? `new columns ${newColumns.map((c) => c.name).join(', ')}` : '',
      missing.length ? `missing columns ${missing.map((c) => c.name).join(', ')}` : '',
    ].filter(Boolean);
    throw new KilnError('SQL_ERROR', `the model's columns changed (${parts.join('; ')}) and on_schema_change is 'fail'`, {
      location: { file: ctx.node.original_file_path },
      hint: "rebuild with --full-refresh, or set on_schema_change='append_new_columns'",
    });
  }
  if (mode === 'append_new_columns') {
    return { insertColumns: [...common, ...newColumns.map((c) => c.name)], added: newColumns };
  }
  return { insertColumns: common, added: [] };
}

async function partitions(ctx: MaterializeContext, relation: ddl.Relation): Promise<string[]> {
  const rows = await ctx.query<{ partition_id: string }>(ddl.activePartitions(relation));
  return rows.map((r) => r.partition_id).sort();
}

/** Old servers run ALTER … DELETE asynchronously; the copy must be settled before it is swapped in. */
async function waitForMutations(ctx: MaterializeContext, relation: ddl.Relation): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = await ctx.query<{ n: string | number }>(ddl.pendingMutations(relation));
    if (Number(row?.n ?? 0) === 0) return;
    await sleep(Math.min(500, 20 * 2 ** i));
  }
  throw new KilnError('SQL_ERROR', `a delete on ${relation.database}.${relation.name} did not finish in time`);
}

