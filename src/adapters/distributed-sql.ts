import { KilnError } from '../errors.js';
import { onCluster, rel, type DdlContext, type Relation } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * SQL text of the distributed materializations (distributed_table, distributed_incremental):
 * a table `<name>_local` on every shard (Replicated on a replicated target) and a
 * `Distributed(cluster, db, <name>_local, sharding_key)` table `<name>` over them.
 * Pure functions of their arguments, so the layout is testable as text on any server generation.
 */

/** dbt-clickhouse's suffix of the shards' table. */
export const LOCAL_SUFFIX = '_local';

/** The sharding key when neither the model nor the target sets one (dbt-clickhouse's default). */
export const DEFAULT_SHARDING_KEY = 'rand()';

/**
 * The DDL context for a shard's table: on a replicated target its ZooKeeper path gets `{shard}`
 * (unless the target's pattern has it), so the replicas of each shard share one table and the
 * shards do not. kiln's other tables leave `{shard}` out: every node is a replica of them.
 */
export function shardContext(ctx: DdlContext): DdlContext {
  const r = ctx.replication;
  if (!r || r.zookeeperPath.includes('{shard}')) return ctx;
  return { ...ctx, replication: { ...r, zookeeperPath: `${r.zookeeperPath.replace(/\/+$/, '')}/{shard}` } };
}

export function localRelation(distributed: Relation): Relation {
  return { database: distributed.database, name: `${distributed.name}${LOCAL_SUFFIX}` };
}

/**
 * Settings of an INSERT into a Distributed table: the statement returns only once every shard
 * has its rows (`insert_distributed_sync`, which 18.16 has too), so the rows are there for the
 * next statement and a failure on a shard is the statement's error. Without it the rows wait in
 * the initiator's spool and reach the shards later, which a test or downstream model could race.
 */
export const SYNC_DISTRIBUTED_INSERT: Readonly<Record<string, number>> = Object.freeze({ insert_distributed_sync: 1 });

/**
 * `CREATE TABLE dist ON CLUSTER c AS shape ENGINE = Distributed(c, db, local, key)`: a Distributed
 * table with `shape`'s columns over `local` on every shard of the cluster. `local` is a name the
 * engine resolves on each read and insert, so it may be renamed into place later.
 */
export function createDistributed(ctx: DdlContext, dist: Relation, shape: Relation, local: Relation, shardingKey: string, ifNotExists = false): string {
  const cluster = requireCluster(ctx);
  const args = [quoteString(cluster), quoteString(local.database), quoteString(local.name), shardingKey.trim() || DEFAULT_SHARDING_KEY];
  return `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${rel(dist)}${onCluster(ctx)} AS ${rel(shape)}\nENGINE = Distributed(${args.join(', ')})`;
}

/** What an increment replaces: the rows with the new rows' keys (delete_insert) or in their partitions (insert_overwrite). */
export type Replaced =
  | { readonly keys: readonly string[]; readonly fresh: Relation }
  | { readonly partitionBy: string | readonly string[]; readonly fresh: Relation };

/**
 * The rows of `dist` an increment keeps: all of them (append), those whose key the new rows in
 * `replaced.fresh` do not have (delete_insert), or those in partitions the new rows do not touch
 * (insert_overwrite: the partition expression evaluated on both sides, as ClickHouse assigns parts).
 * GLOBAL: the set is read once and sent to every shard.
 */
export function keptRows(dist: Relation, columns: readonly string[], replaced?: Replaced): string {
  const select = `SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${rel(dist)}`;
  if (!replaced) return select;
  const list = 'keys' in replaced ? replaced.keys.map(quoteIdentifier).join(', ') : partitionList(replaced.partitionBy);
  return `${select} WHERE (${list}) GLOBAL NOT IN (SELECT ${'keys' in replaced ? '' : 'DISTINCT '}${list} FROM ${rel(replaced.fresh)})`;
}

/** `partition_by` as a list of expressions: `toYYYYMM(d)`, `a, b`, `(a, b)` and `[a, b]` alike. */
function partitionList(partitionBy: string | readonly string[]): string {
  if (typeof partitionBy !== 'string') return partitionBy.join(', ');
  const text = partitionBy.trim();
  return wrapsWhole(text) ? text.slice(1, -1).trim() : text;
}

/** `(…)` whose first parenthesis closes at the end (not `(a) + (b)`). */
function wrapsWhole(text: string): boolean {
  if (!text.startsWith('(') || !text.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0 && i < text.length - 1) return false;
  }
  return true;
}

/**
 * Replicas of the cluster's fullest shard, from the node kiln talks to: the `insert_quorum` of an
 * insert into replicated shards, so it returns only once every replica has the rows (read-your-writes).
 */
export function replicasPerShard(ctx: DdlContext): string {
  return `SELECT max(replicas) AS n FROM (SELECT shard_num, count() AS replicas FROM system.clusters WHERE cluster = ${quoteString(requireCluster(ctx))} GROUP BY shard_num)`;
}

function requireCluster(ctx: DdlContext): string {
  if (!ctx.cluster) throw new KilnError('INTERNAL', 'a distributed materialization needs a cluster target (checked at compile)');
  return ctx.cluster;
}
