import type { ColumnInfo } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import {
  DEFAULT_SHARDING_KEY,
  createDistributed,
  localRelation,
  shardContext,
  keptRows,
  type Replaced,
} from '../adapters/distributed-sql.js';
import { checkTableAs, checkView, createStandIn } from '../adapters/shadow-sql.js';
import type { DistributedIncrementalKind, OnSchemaChange } from '../compile/model-kind.js';
import { KilnError } from '../errors.js';
import { checkContract, checkExistingTable, definedColumns } from './defined-table.js';
import { runHooks } from './hooks.js';
import { reconcileSchema } from './incremental-materialization.js';
import { oldRelation, tableOptions, tempRelation, type MaterializationStrategy, type MaterializeContext } from './materialization.js';

/**
 * dbt-clickhouse's distributed materializations on kiln's terms: the rows live in `<name>_local`
 * on every shard (a Replicated engine on a replicated target), read and written through
 * `<name>`, a `Distributed(cluster, db, <name>_local, sharding_key)` table.
 *
 * Every build is a rebuild under scratch names, swapped in on every node:
 *   pre_hook…
 *   CREATE TABLE tmp_local ON CLUSTER (columns) ENGINE …          (the model's engine/order_by/…;
 *                                   Replicated with `{shard}` in its path on a replicated target)
 *   CREATE TABLE tmp_ins ON CLUSTER AS tmp_local ENGINE = Distributed(…, tmp_local, key)
 *   INSERT INTO tmp_ins SELECT …   (insert_distributed_sync=1: every shard has its rows when it
 *                                   returns; insert_quorum = replicas: every replica has them)
 *   [distributed_incremental: INSERT INTO tmp_ins the rows the target keeps, read through <name>]
 *   (a count through tmp_ins: a read); DROP tmp_ins ON CLUSTER
 *   CREATE TABLE tmp ON CLUSTER AS tmp_local ENGINE = Distributed(…, <name>_local, key)
 *   RENAME TABLE <name> TO old, <name>_local TO old_local, tmp_local TO <name>_local, tmp TO <name>
 *     ON CLUSTER                                                   ← publishes, node by node
 *   DROP old, old_local ON CLUSTER
 *   post_hook…
 * Crash safety: nothing the readers see changes before the RENAME. A kill before it leaves the
 * old tables and scratch ones (`__kiln_tmp__<name>__<run>…`), after it the new tables and perhaps
 * `__kiln_old__<name>__<run>…`; the next run's prepareWarehouse drops both kinds ON CLUSTER, and
 * a distributed_incremental rerun recomputes is_incremental() from what <name> holds, as the
 * plain incremental does. The RENAME is one statement per node, so each node switches at once;
 * nodes switch a moment apart (ON CLUSTER runs on each from the DDL queue).
 * A distributed_incremental copies the rows it keeps through the Distributed table (append: all,
 * delete_insert: those whose unique_key the new rows do not have) instead of attaching
 * partitions: a partition attached on one replica reaches the others later, which a reader could
 * race, while a quorum insert is on every replica when it returns. The price is a rewrite of the
 * table on every run. insert_overwrite keeps the rows of the partitions the new rows do not
 * touch, so the partitions they touch are replaced whole, on every shard in the same swap. (A
 * REPLACE PARTITION per shard instead would publish shard by shard, each from a connection of its
 * own, and 18.16 has no REPLACE PARTITION … ON CLUSTER: a kill between two shards would show
 * readers one shard's new partition beside another's old one.)
 * A table definition (contract, codecs, TTLs, indexes, projections, CHECKs) is the shards'
 * `<name>_local`'s, as a table's is its own; the Distributed table copies its columns (AS). An
 * enforced contract is checked before pre_hook: a mismatch fails before anything is written.
 */
export const distributedTableMaterialization: MaterializationStrategy = {
  name: 'distributed_table',
  async run(ctx) {
    const sql = ctx.sql({ isIncremental: false });
    if (ctx.table?.contract) await checkContract(ctx, ctx.table.contract, sql);
    await runHooks(ctx, 'pre_hook');
    const rows = await rebuild(ctx, sql);
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: rows, message: `created distributed table ${ctx.relation.database}.${ctx.relation.name}` };
  },
  async check(ctx) {
    // Validation's shadow is one node's database: the SELECT is checked as the table's would be
    // (a defined table's columns come from its definition: only its SELECT, as table's check does).
    if (ctx.table) return void (await ctx.warehouse.execute(checkView(ctx.warehouse.ddl, ctx.relation, ctx.sql({ isIncremental: false }))));
    for (const statement of checkTableAs(ctx.warehouse.ddl, ctx.relation, ctx.sql({ isIncremental: false }), tableOptions(ctx.node.config))) {
      await ctx.warehouse.execute(statement);
    }
  },
};

export const distributedIncrementalMaterialization: MaterializationStrategy = {
  name: 'distributed_incremental',
  async run(ctx) {
    const kind = distributedKind(ctx);
    const local = localRelation(ctx.relation);
    const localExists = (await ctx.warehouse.listRelations([local.database])).some((r) => r.name === local.name);
    if (!ctx.existing || ctx.fullRefresh || ctx.existing.isView || !localExists) {
      const built = await distributedTableMaterialization.run(ctx);
      return { ...built, message: `${built.message} (full build)` };
    }
    const sql = ctx.sql({ isIncremental: true });
    if (ctx.table?.contract) {
      // Before anything changes: the new rows and the table they go into must both be the contract's.
      await checkExistingTable(ctx, await checkContract(ctx, ctx.table.contract, sql));
    }
    await runHooks(ctx, 'pre_hook');
    const existing = await ctx.warehouse.columns(local);
    const { insertColumns, added } = await reconcile(ctx, sql, existing, kind.onSchemaChange);
    const rows = await rebuild(ctx, sql, {
      columns: [...existing, ...added],
      insertColumns,
      keep: (tmpIns) =>
        ddl.insertInto(tmpIns, existing.map((c) => c.name), {
          select: keptRows(ctx.relation, existing.map((c) => c.name), replaced(ctx, kind, tmpIns)),
        }),
    });
    await runHooks(ctx, 'post_hook');
    return { rowsAffected: rows, message: `${DONE[kind.strategy]} distributed table ${ctx.relation.database}.${ctx.relation.name}` };
  },
  async check(ctx) {
    if (!ctx.existing || ctx.fullRefresh || ctx.existing.isView) return distributedTableMaterialization.check!(ctx);
    // As incremental's check: {{ this }} is a stand-in with the table's columns, the increment beside it.
    await ctx.warehouse.execute(createStandIn(ctx.relation, await ctx.warehouse.columns(ctx.existing)));
    const increment = { database: ctx.relation.database, name: `${ctx.relation.name}#increment` };
    if (ctx.table) return void (await ctx.warehouse.execute(checkView(ctx.warehouse.ddl, increment, ctx.sql({ isIncremental: true }))));
    for (const statement of checkTableAs(ctx.warehouse.ddl, increment, ctx.sql({ isIncremental: true }), tableOptions(ctx.node.config))) {
      await ctx.warehouse.execute(statement);
    }
  },
};

const DONE: Readonly<Record<DistributedIncrementalKind['strategy'], string>> = {
  append: 'appended to',
  delete_insert: 'merged into',
  insert_overwrite: 'replaced partitions of',
};

/** What the new rows (in the scratch `fresh`) replace in the table; nothing for append. */
function replaced(ctx: MaterializeContext, kind: DistributedIncrementalKind, fresh: ddl.Relation): Replaced | undefined {
  if (kind.strategy === 'delete_insert') return { keys: kind.uniqueKey, fresh };
  if (kind.strategy !== 'insert_overwrite') return undefined;
  const partitionBy = ctx.node.config.partition_by;
  if (typeof partitionBy !== 'string' && !Array.isArray(partitionBy)) throw new KilnError('INTERNAL', `${ctx.node.unique_id}: insert_overwrite without partition_by (checked at compile)`);
  return { partitionBy: partitionBy as string | readonly string[], fresh };
}

interface IncrementSpec {
  /** The scratch local table's columns: the existing table's, plus any on_schema_change adds. */
  readonly columns: readonly ColumnInfo[];
  /** The columns the model's rows fill. */
  readonly insertColumns: readonly string[];
  /** The INSERT of the rows the target keeps, into the scratch Distributed table (after the new rows). */
  readonly keep: (tmpIns: ddl.Relation) => string;
}

/** The scratch relations of one run; every name is a leftover of `<name>` (isLeftoverOf). */
export function scratchNames(relation: ddl.Relation, runId: string) {
  const tmp = tempRelation(relation, runId);
  const old = oldRelation(relation, runId);
  return {
    tmp,
    tmpLocal: { database: tmp.database, name: `${tmp.name}_local` },
    tmpIns: { database: tmp.database, name: `${tmp.name}_ins` },
    old,
    oldLocal: { database: old.database, name: `${old.name}_local` },
  };
}

/** The model's sharding_key, else the target's, else dbt-clickhouse's default. */
function shardingKey(ctx: MaterializeContext): string {
  for (const key of [ctx.node.config.sharding_key, ctx.warehouse.target.sharding_key]) {
    if (typeof key === 'string' && key.trim()) return key.trim();
  }
  return DEFAULT_SHARDING_KEY;
}

/** Builds the scratch tables from `sql` (and what an increment keeps), swaps them in on every node; returns the rows. */
async function rebuild(ctx: MaterializeContext, sql: string, increment?: IncrementSpec): Promise<number> {
  const d = ctx.warehouse.ddl;
  const names = scratchNames(ctx.relation, ctx.runId);
  const local = localRelation(ctx.relation);
  const key = shardingKey(ctx);
  const dropScratch = async () => {
    for (const r of [names.tmpIns, names.tmp, names.tmpLocal]) await ctx.warehouse.execute(ddl.dropRelation(d, r)).catch(() => undefined);
  };
  let rows = 0;
  try {
    const def = ctx.table;
    const base = increment?.columns ?? (def?.contract ? [] : (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows.map((c) => ({ name: c.name, type: c.type })));
    // With a definition: the contract's columns (an existing table already matched it), or these with their codecs/TTLs.
    const columns = def ? definedColumns(ctx, def, base) : base;
    await ctx.warehouse.execute(ddl.createTable(shardContext(d), names.tmpLocal, columns, tableOptions(ctx.node.config), def?.elements));
    await ctx.warehouse.execute(createDistributed(d, names.tmpIns, names.tmpLocal, names.tmpLocal, key));
    const settings = await ctx.warehouse.distributedInsertSettings();
    await ctx.warehouse.execute(ddl.insertSelectColumns(names.tmpIns, sql, increment?.insertColumns ?? columns.map((c) => c.name)), { settings });
    if (increment) await ctx.warehouse.execute(increment.keep(names.tmpIns), { settings });
    rows = await ctx.warehouse.countRows(names.tmpIns);
    await ctx.warehouse.execute(ddl.dropRelation(d, names.tmpIns));
    await ctx.warehouse.execute(createDistributed(d, names.tmp, names.tmpLocal, local, key));
    const present = new Set((await ctx.warehouse.listRelations([ctx.relation.database])).map((r) => r.name));
    const moved: Array<readonly [ddl.Relation, ddl.Relation]> = [];
    if (present.has(ctx.relation.name)) moved.push([ctx.relation, names.old]);
    if (present.has(local.name)) moved.push([local, names.oldLocal]);
    await ctx.warehouse.execute(ddl.renameTables(d, [...moved, [names.tmpLocal, local], [names.tmp, ctx.relation]]));
    for (const [, old] of moved) await ctx.warehouse.execute(ddl.dropRelation(d, old));
  } catch (err) {
    await dropScratch();
    throw err;
  }
  return rows;
}

function distributedKind(ctx: MaterializeContext): DistributedIncrementalKind {
  if (ctx.kind.materialized !== 'distributed_incremental') throw new KilnError('INTERNAL', `${ctx.node.unique_id} is not distributed_incremental`);
  return ctx.kind;
}

async function reconcile(ctx: MaterializeContext, sql: string, existing: readonly ColumnInfo[], mode: OnSchemaChange): Promise<{ insertColumns: string[]; added: ColumnInfo[] }> {
  const produced = (await ctx.warehouse.query<ColumnInfo>(ddl.describeSelect(sql))).rows.map((c) => ({ name: c.name, type: c.type }));
  return reconcileSchema(ctx, existing, produced, mode);
}
