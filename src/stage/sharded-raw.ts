import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import { createDistributed, localRelation, shardContext } from '../adapters/distributed-sql.js';
import * as sql from '../adapters/staging-sql.js';
import { KilnError } from '../errors.js';
import type { FileTable, StageTable } from './source-options.js';
import { dropQuietly, scratchRelation, type StageContext } from './stage-context.js';
import { beforeRawChange } from './view-invalidation.js';

/**
 * Raw tables split across the shards of a cluster (a source table's `sharding_key`): the rows in
 * `<table>_local` on every shard, one replica set per shard, and `<table>` a Distributed table
 * over them, so models read `source(…)` as before and see every shard. What staging does with
 * them is file-loader.ts's order with two statements changed: a file's old rows are dropped
 * with one DROP PARTITION ON CLUSTER (on every shard), and its new rows go in with one
 * synchronous quorum INSERT through the Distributed table (every replica of every shard has
 * them when it returns). Both repeat safely, and the ledger entry that makes a file count is
 * still written last.
 */

export interface ShardingTarget {
  readonly name: string;
  readonly cluster?: string | undefined;
}

/**
 * The tables as this target stages them. Without a cluster a `sharding_key` is ignored, with a
 * note: one node has no shards, the raw table and what models read are the same either way, and
 * so one sources.yml serves a dev target on one node and a prod cluster (dbt-clickhouse ignores
 * its distributed settings off a cluster in the same spirit). On a cluster, a live MySQL table with
 * incremental_key is exit 2 before anything runs (see below). A materialized_view model may be fed
 * by a sharded table: its views are on the Distributed table, where kiln's INSERT goes, so they
 * fire once per insert on the node that runs it (the shards' inserts into `_local` fire nothing).
 */
export function shardingOnTarget(
  tables: readonly StageTable[],
  target: ShardingTarget,
  note: (message: string) => void,
): StageTable[] {
  return tables.map((t) => {
    if (t.shardingKey === undefined) return t;
    const name = `source ${t.sourceName}.${t.tableName}`;
    if (!target.cluster) {
      note(`${name}: sharding_key ignored: target '${target.name}' has no cluster, so ${ddl.rel(t.relation)} is one table`);
      return { ...t, shardingKey: undefined };
    }
    if (t.loader === 'mysql' && t.source.kind === 'live' && t.source.incrementalKey !== undefined) {
      // Appending past max(key) through shards is not exactly once: an INSERT killed with one
      // shard written raises max(key) past rows the other shard never got.
      throw new KilnError('CONFIG_INVALID', `${name}: sharding_key with incremental_key is not supported: a sharded mysql table is reloaded whole`, {
        location: t.location,
        hint: 'remove incremental_key (the table is then reloaded whole and swapped in on every node), or remove sharding_key',
      });
    }
    return t;
  });
}

/**
 * Stops a load into a raw table laid out otherwise than the table's config says (sharding_key
 * added or removed since it was made): the layouts hold rows differently, and moving them is
 * a full refresh's rebuild.
 */
export async function checkRawLayout(adapter: Adapter, table: StageTable): Promise<void> {
  const engine = await rawEngine(adapter, table.relation);
  if (engine === undefined || (engine === 'Distributed') === (table.shardingKey !== undefined)) return;
  const now = table.shardingKey !== undefined ? `sharded (sharding_key ${table.shardingKey})` : 'not sharded';
  throw new KilnError('STAGE_FAILED', `source ${table.sourceName}.${table.tableName}: ${ddl.rel(table.relation)} is ${engine === 'Distributed' ? 'a Distributed table over shards' : `one ${engine} table`}, and the source is now ${now}`, {
    location: table.location,
    hint: `run kiln stage --full-refresh --select source:${table.sourceName}.${table.tableName} to rebuild it from every file`,
  });
}

export async function rawEngine(adapter: Adapter, table: Relation): Promise<string | undefined> {
  return (await adapter.query<{ engine: string }>(sql.tableEngine(table))).rows[0]?.engine;
}

/**
 * Drops a raw table for a full refresh, with its shards' table when it is (or is to be) sharded:
 * `_local` first, so a run killed between the two leaves the Distributed table, which tells the
 * next run to drop `_local` again.
 */
export async function dropRawTable(adapter: Adapter, table: StageTable): Promise<void> {
  if (table.shardingKey !== undefined || (await rawEngine(adapter, table.relation)) === 'Distributed') {
    await adapter.execute(ddl.dropRelation(adapter.ddl, localRelation(table.relation)));
  }
  await adapter.execute(ddl.dropRelation(adapter.ddl, table.relation));
}

/** Creates the sharded raw table's two tables with `columns` (see createShardedRawTable). */
export async function createShardedRaw(adapter: Adapter, table: FileTable & { readonly shardingKey: string }, columns: readonly sql.StagedColumn[]): Promise<void> {
  for (const statement of sql.createShardedRawTable(adapter.ddl, table.relation, columns, table.shardingKey)) await adapter.execute(statement);
}

/**
 * A file's rows in a sharded raw table replaced by `rows` (a scratch table of the file's rows):
 * the partition dropped on every shard when the file may have rows there (`hadRows`: the ledger
 * knows it), then the rows inserted through the Distributed table. Between the two a reader of
 * the table sees none of the file's rows (18.16 has no per-shard REPLACE PARTITION ON CLUSTER).
 */
export async function replaceShardedFile(adapter: Adapter, table: Relation, file: string, rows: Relation, columns: readonly string[], opts: { readonly hadRows: boolean; readonly loaded: number }): Promise<void> {
  if (opts.hadRows) await adapter.execute(sql.dropShardedPartition(adapter.ddl, table, sql.filePartition(file)));
  if (opts.loaded > 0) {
    await adapter.execute(ddl.insertSelectColumns(table, ddl.selectAll(rows), columns), { settings: await adapter.distributedInsertSettings() });
  }
}

/**
 * A whole reload of a sharded raw table (a mysql table: its dump, or a live table without
 * incremental_key), built from `built` (a scratch table holding every row, on kiln's node) and
 * published on every node as distributed_table models are (distributed-materialization.ts):
 *   CREATE tmp_local ON CLUSTER ({shard} in its path); CREATE tmp_ins ON CLUSTER Distributed over it;
 *   INSERT INTO tmp_ins SELECT * FROM built   (synchronous, quorum of a shard's replicas);
 *   DROP tmp_ins; CREATE tmp ON CLUSTER Distributed over <table>_local;
 *   RENAME <table> TO old, <table>_local TO old_local, tmp_local TO <table>_local, tmp TO <table> ON CLUSTER;
 *   DROP old, old_local ON CLUSTER.
 * Killed before the RENAME, readers keep the old table and the scratch tables are leftovers the
 * next run drops (their names start with the raw table's temp prefix); after it, the new table is
 * whole everywhere. Returns the rows.
 */
export async function swapShardedWhole(ctx: StageContext, table: Relation, shardingKey: string, built: Relation): Promise<number> {
  const { adapter } = ctx;
  const d = adapter.ddl;
  const base = scratchRelation(table, ctx.runId, 'shards');
  const tmpLocal = { database: base.database, name: `${base.name}_local` };
  const tmpIns = { database: base.database, name: `${base.name}_ins` };
  const old = scratchRelation(table, ctx.runId, 'old');
  const oldLocal = { database: old.database, name: `${old.name}_local` };
  const local = localRelation(table);
  try {
    const columns = await adapter.columns(built);
    await adapter.execute(sql.createStagingTable(shardContext(d), tmpLocal, columns, false));
    await adapter.execute(createDistributed(d, tmpIns, tmpLocal, tmpLocal, shardingKey));
    await adapter.execute(ddl.insertSelectColumns(tmpIns, ddl.selectAll(built), columns.map((c) => c.name)), { settings: await adapter.distributedInsertSettings() });
    const rows = await adapter.countRows(tmpIns);
    await adapter.execute(ddl.dropRelation(d, tmpIns));
    await adapter.execute(createDistributed(d, base, tmpLocal, local, shardingKey));
    const present = new Set((await adapter.listRelations([table.database])).map((r) => r.name));
    const moved: Array<readonly [Relation, Relation]> = [];
    if (present.has(table.name)) moved.push([table, old]);
    if (present.has(local.name)) moved.push([local, oldLocal]);
    // The views of a materialized_view model read `<table>` by name; a swap fires none of them.
    if (present.has(table.name)) await beforeRawChange(ctx, table, 'replace');
    await adapter.execute(ddl.renameTables(d, [...moved, [tmpLocal, local], [base, table]]));
    for (const [, gone] of moved) await adapter.execute(ddl.dropRelation(d, gone));
    return rows;
  } finally {
    for (const r of [tmpIns, base, tmpLocal, old, oldLocal]) await dropQuietly(adapter, r);
  }
}
