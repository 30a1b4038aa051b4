import { runMicrobatch } from './microbatch-materialization.js';
import type { ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { checkTableAs, checkView, createStandIn } from '../adapters/shadow-sql.js';
import { SqlError } from '../adapters/sql-error.js';
import type { ModelKind, OnSchemaChange } from '../compile/model-kind.js';
import { KilnError } from '../errors.js';
import { checkContract, checkExistingTable } from './defined-table.js';
import { runHooks } from './hooks.js';
import { tableOptions, tempRelation, type MaterializationStrategy, type MaterializeContext, type MaterializeResult } from './materialization.js';
import { buildThenSwap } from './swap.js';
import { tableMaterialization } from './table-materialization.js';

type IncrementalKind = Extract<ModelKind, { readonly materialized: 'incremental' }>;

const UNKNOWN_IDENTIFIER = 47;

/**
 * Incremental models. Crash safety (issue 12): a kill between any two statements leaves the
 * target either as it was or with the whole increment, never part of it, and leaves only scratch
 * relations (`__kiln_tmp__<model>__<run>`) that the next run's prepareWarehouse drops. The rerun
 * then recomputes is_incremental() from the target: before the one step that publishes the
 * increment it finds the old target and computes the same rows again; after it, the model's own
 * filter against {{ this }} finds them already there (append adds nothing; delete_insert and
 * insert_overwrite replace rows by key or partition with the same rows), as a clean second run
 * would. Hooks run at least once per completed run, so they must be idempotent.
 *
 * Statements, in order:
 *   pre_hook…
 *   CREATE TABLE fresh AS target; [ADD COLUMN … to fresh]; INSERT INTO fresh SELECT <model>
 *   (partition rows of target and fresh: a read)
 *   then exactly one way to publish the new rows:
 *   a. append, no new columns, the new rows one part in one partition:
 *        ATTACH PARTITION … FROM fresh INTO target            ← publishes (one statement)
 *   b. insert_overwrite, no new columns, the new rows one part in one partition:
 *        REPLACE PARTITION … FROM fresh IN target             ← publishes (one statement)
 *   c. everything else (several partitions, new columns, delete_insert): a copy of the target
 *      sharing its parts by hard links (nothing rewritten), changed, then swapped in:
 *        CREATE TABLE copy AS target; ATTACH PARTITION … FROM target (each partition the
 *        increment keeps: all for append and delete_insert, those it does not overwrite for
 *        insert_overwrite); [ADD COLUMN …]; [DELETE rows whose key is in fresh, waited for];
 *        ATTACH PARTITION … FROM fresh (each new partition);
 *        EXCHANGE TABLES copy AND target, or RENAME target TO old, copy TO target  ← publishes
 *        DROP copy (now the old target) / DROP old
 *   DROP fresh
 *   post_hook…
 * Several REPLACE PARTITION statements on the target would each be atomic but not together: a
 * kill between two left a target that was neither the old nor the new one until the rerun, and
 * a rerun whose filter reads {{ this }} could compute a different increment from it. Likewise an
 * ADD COLUMN on the target before its rows arrive. Both go through the copy instead.
 * The one-part condition of a and b keeps a server crash in the middle of the statement from
 * leaving some of the parts attached. Insert deduplication tokens were not used: they only
 * protect a retried identical block, while a rerun recomputes its rows and may cut them into
 * different blocks. A first build and --full-refresh are the table materialization.
 * With an enforced contract, before pre_hook: the model's SELECT and the existing table are
 * both checked against it (defined-table.ts), so a mismatch fails before any statement writes.
 */
export const incrementalMaterialization: MaterializationStrategy = {
  name: 'incremental',
  async run(ctx) {
    const kind = incrementalKind(ctx);
    if (kind.microbatch) return runMicrobatch(ctx, kind.microbatch);
    if (!ctx.existing || ctx.fullRefresh || ctx.existing.isView) {
      const built = await tableMaterialization.run(ctx);
      return { ...built, message: `${built.message} (full build)` };
    }
    if (ctx.table?.contract) {
      // Before anything changes: the new rows and the table they go into must both be the contract's.
      const expected = await checkContract(ctx, ctx.table.contract, ctx.sql({ isIncremental: true }));
      await checkExistingTable(ctx, expected);
    }
    await runHooks(ctx, 'pre_hook');
    const result = await applyIncrement(ctx, kind);
    await runHooks(ctx, 'post_hook');
    return result;
  },
  async check(ctx) {
    if (!ctx.existing || ctx.fullRefresh || ctx.existing.isView) return tableMaterialization.check!(ctx);
    // {{ this }} is the table as it stands: a stand-in with its columns, which readers downstream
    // see too; the increment's SQL is checked into a table of its own beside it.
    await ctx.warehouse.execute(createStandIn(ctx.relation, await ctx.warehouse.columns(ctx.existing)));
    const increment = { database: ctx.relation.database, name: `${ctx.relation.name}#increment` };
    const sql = ctx.sql({ isIncremental: true });
    // A defined table's columns come from its contract: only its SELECT is checked (see table's check).
    if (ctx.table) await ctx.warehouse.execute(checkView(ctx.warehouse.ddl, increment, sql));
    else for (const statement of checkTableAs(ctx.warehouse.ddl, increment, sql, tableOptions(ctx.node.config))) await ctx.warehouse.execute(statement);
  },
};

/** The incremental settings compile validated (see compile/model-kind.ts). */
function incrementalKind(ctx: MaterializeContext): IncrementalKind {
  if (ctx.kind.materialized !== 'incremental') throw new KilnError('INTERNAL', `${ctx.node.unique_id} is not incremental`);
  return ctx.kind;
}

const DONE: Readonly<Record<IncrementalKind['strategy'], string>> = {
  append: 'appended to',
  insert_overwrite: 'replaced partitions of',
  delete_insert: 'merged into',
  microbatch: 'replaced batches of',
};

async function applyIncrement(ctx: MaterializeContext, kind: IncrementalKind): Promise<MaterializeResult> {
  const { strategy } = kind;
  const d = ctx.warehouse.ddl;
  const target = ctx.relation;
  const fresh = tempRelation(target, `${ctx.runId}_new`);
  const copy = tempRelation(target, `${ctx.runId}_copy`);
  const sql = ctx.sql({ isIncremental: true });
  const cleanup = async () => {
    for (const r of [fresh, copy]) await ctx.warehouse.execute(ddl.dropRelation(d, r)).catch(() => undefined);
  };
  try {
    const added = await insertNewRows(ctx, sql, fresh, kind.onSchemaChange);
    const parts = await partitionRows(ctx, [target, fresh]);
    const rows = sumRows(parts.get(fresh.name));
    if (rows === 0 && added.length === 0) {
      await ctx.warehouse.execute(ddl.dropRelation(d, fresh));
      return { rowsAffected: 0, message: `no new rows for ${target.database}.${target.name}` };
    }
    const freshPartitions = [...(parts.get(fresh.name)?.keys() ?? [])].sort();
    const onePart = freshPartitions.length === 1 && parts.get(fresh.name)!.get(freshPartitions[0]!)!.parts === 1;
    if (added.length === 0 && onePart && strategy !== 'delete_insert') {
      // One statement publishes the whole increment (a or b above).
      if (strategy === 'append') await ctx.warehouse.execute(ddl.attachPartitionFrom(d, target, freshPartitions[0]!, fresh));
      else await ctx.warehouse.replacePartitions(fresh, target, freshPartitions);
      await ctx.warehouse.execute(ddl.dropRelation(d, fresh));
      return { rowsAffected: rows, message: `${DONE[strategy]} ${target.database}.${target.name}` };
    }

    const overwritten = new Set(strategy === 'insert_overwrite' ? freshPartitions : []);
    await buildThenSwap(ctx, copy, async () => {
      await ctx.warehouse.createEmptyCopy(copy, target);
      for (const pid of [...(parts.get(target.name)?.keys() ?? [])].sort()) {
        if (!overwritten.has(pid)) await ctx.warehouse.execute(ddl.attachPartitionFrom(d, copy, pid, target));
      }
      if (added.length) await ctx.warehouse.execute(ddl.addColumns(d, copy, added));
      // Settled before the swap: deleteWhere returns once the rows are gone, on old servers too.
      if (strategy === 'delete_insert') await ctx.warehouse.deleteWhere(copy, ddl.keyIn(kind.uniqueKey, fresh));
      // Same structure as the copy, so the new rows move over as parts (hard links), not rewritten.
      for (const pid of freshPartitions) await ctx.warehouse.execute(ddl.attachPartitionFrom(d, copy, pid, fresh));
    });
    await ctx.warehouse.execute(ddl.dropRelation(d, fresh));
    return { rowsAffected: rows, message: `${DONE[strategy]} ${target.database}.${target.name}` };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/**
 * Computes the new rows into `fresh` (an empty table shaped like the target) and returns the
 * columns the target gains, per `on_schema_change`. With `ignore` (the default) a model that
 * still returns every target column needs no look at its output: the target's columns are
 * selected by name, and only when one is missing does the model's output get described.
 */
async function insertNewRows(ctx: MaterializeContext, sql: string, fresh: ddl.Relation, mode: OnSchemaChange): Promise<ColumnInfo[]> {
  const d = ctx.warehouse.ddl;
  const existing = await ctx.warehouse.columns(ctx.relation);
  if (mode === 'ignore') {
    await ctx.warehouse.createEmptyCopy(fresh, ctx.relation);
    try {
      await ctx.warehouse.execute(ddl.insertSelectColumns(fresh, sql, existing.map((c) => c.name)));
      return [];
    } catch (err) {
      if (!(err instanceof SqlError && err.clickhouseCode === UNKNOWN_IDENTIFIER)) throw err;
    }
    // A column is gone from the model: fill the ones it still returns into a fresh empty table.
    const { insertColumns } = reconcileSchema(ctx, existing, await producedColumns(ctx, sql), mode);
    await ctx.warehouse.execute(ddl.dropRelation(d, fresh));
    await ctx.warehouse.createEmptyCopy(fresh, ctx.relation);
    await ctx.warehouse.execute(ddl.insertSelectColumns(fresh, sql, insertColumns));
    return [];
  }
  const { insertColumns, added } = reconcileSchema(ctx, existing, await producedColumns(ctx, sql), mode);
  await ctx.warehouse.createEmptyCopy(fresh, ctx.relation);
  if (added.length) await ctx.warehouse.execute(ddl.addColumns(d, fresh, added));
  await ctx.warehouse.execute(ddl.insertSelectColumns(fresh, sql, insertColumns));
  return added;
}

async function producedColumns(ctx: MaterializeContext, sql: string): Promise<ColumnInfo[]> {
  return (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows.map((c) => ({ name: c.name, type: c.type }));
}

/** Columns the new rows fill, and columns to add, per `on_schema_change` (distributed_incremental's too). */
export function reconcileSchema(
  ctx: MaterializeContext,
  existing: readonly ColumnInfo[],
  produced: readonly ColumnInfo[],
  mode: OnSchemaChange,
): { insertColumns: string[]; added: ColumnInfo[] } {
  const have = new Set(existing.map((c) => c.name));
  const newColumns = produced.filter((c) => !have.has(c.name));
  const missing = existing.filter((c) => !produced.some((p) => p.name === c.name));
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

interface PartitionInfo {
  readonly rows: number;
  readonly parts: number;
}

/** Per relation name: its partitions, with the rows and active parts in each (one query for all). */
async function partitionRows(ctx: MaterializeContext, relations: readonly ddl.Relation[]): Promise<Map<string, Map<string, PartitionInfo>>> {
  type Row = { database: string; table: string; partition_id: string; rows: string | number; parts: string | number };
  const out = new Map<string, Map<string, PartitionInfo>>();
  for (const r of (await ctx.warehouse.query<Row>(ddl.partitionRows(relations))).rows) {
    if (!relations.some((x) => x.database === r.database && x.name === r.table)) continue;
    if (!out.has(r.table)) out.set(r.table, new Map());
    out.get(r.table)!.set(r.partition_id, { rows: Number(r.rows), parts: Number(r.parts) });
  }
  return out;
}

function sumRows(partitions: ReadonlyMap<string, PartitionInfo> | undefined): number {
  let n = 0;
  for (const p of partitions?.values() ?? []) n += p.rows;
  return n;
}
