import { KilnError } from '../errors.js';
import type { TargetConfig } from '../project/types.js';
import { capabilitiesFor, type Capabilities, type EphemeralStyle } from './capabilities.js';
import * as ddl from './ddl.js';
import { replicasPerShard, SYNC_DISTRIBUTED_INSERT } from './distributed-sql.js';
import type { Driver, ExecOptions, ExecResult, LocalSelectOptions, QueryResult } from './driver.js';
import { assertZookeeperReachable, ClusterDriver } from './cluster-errors.js';
import { CrashPointDriver, crashPointFromEnv } from './crash-point.js';
import { MeteredDriver } from './metered-driver.js';
import { GuardedDriver } from './guarded-driver.js';
import type { LockHolder } from './lock-holder.js';
import { quoteString } from './quoting.js';
import { parseOnly } from './shadow-sql.js';
import { CH_ERRORS, SqlError } from './sql-error.js';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

const DISTRIBUTED_QUORUM_TIMEOUT_MS = 60_000;

const NOT_IMPLEMENTED = 48;

/**
 * How long deleteWhere waits for an ALTER … DELETE mutation. Generous: on a large table an old
 * server rewrites every part the predicate touches; a mutation that never finishes is stuck.
 */
const MUTATION_WAIT_MS = 10 * 60_000;

/** How long an INSERT waits for another INSERT's quorum on the same Replicated table (see Adapter.execute). */
const QUORUM_WAIT_MS = 5 * 60_000;

export interface RelationInfo {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
  readonly isView: boolean;
}

export interface ColumnInfo {
  readonly name: string;
  readonly type: string;
}

/**
 * What a materialization strategy may do on the warehouse. Strategies get it from a metered
 * adapter, so every statement, the operations' own included, counts toward the step's query time.
 */
export type WarehouseOperations = Pick<
  Adapter,
  'ddl' | 'target' | 'execute' | 'query' | 'swap' | 'deleteWhere' | 'replacePartitions' | 'createEmptyCopy' | 'columns' | 'countRows' | 'insertFile' | 'describeFile' | 'insertLocalSelect' | 'queryLocal' | 'portableType' | 'listRelations' | 'distributedInsertSettings'
>;

/**
 * kiln's one adapter: ClickHouse SQL and capabilities over a swappable driver (chdb in-process,
 * or HTTP). Engine differences that are not transport are capability flags, never version checks.
 */
export class Adapter {
  readonly ddl: ddl.DdlContext;
  /** The one place that decides how ephemeral models are inlined on this warehouse. */
  readonly ephemeralStyle: EphemeralStyle;
  /** Settings every statement to the warehouse carries (none on current servers). */
  private readonly always: Readonly<Record<string, number>>;

  private constructor(
    readonly driver: Driver,
    readonly target: TargetConfig,
    readonly version: string,
    readonly capabilities: Capabilities,
    /** Nodes of the target's cluster (system.clusters), 0 without one. */
    readonly clusterNodes = 0,
  ) {
    this.ddl = ddlContext(target, capabilities);
    this.ephemeralStyle = capabilities.ctes ? 'cte' : 'subquery';
    this.always = {
      ...(capabilities.stableLowCardinality ? {} : { allow_experimental_low_cardinality_type: 1 }),
      ...(capabilities.skippingIndexes && !capabilities.stableSkippingIndexes ? { allow_experimental_data_skipping_indices: 1 } : {}),
      ...readYourWrites(target, this.ddl, clusterNodes),
    };
  }

  /** This adapter over a driver that adds up the time ClickHouse spends on its statements. */
  metered(): { adapter: Adapter; elapsedMs(): number; statements(): readonly string[] } {
    const driver = new MeteredDriver(this.driver);
    return { adapter: new Adapter(driver, this.target, this.version, this.capabilities, this.clusterNodes), elapsedMs: () => driver.elapsedMs, statements: () => driver.statements };
  }

  private withSettings<O extends ExecOptions>(opts: O | undefined): O | undefined {
    if (Object.keys(this.always).length === 0) return opts;
    return { ...opts, settings: { ...this.always, ...opts?.settings } } as O;
  }

  /** Opens the target's warehouse and reads its version once. Unreachable → exit-2 error. */
  static async connect(target: TargetConfig, opts: { threads?: number; lockAs?: LockHolder } = {}): Promise<Adapter> {
    const http = target.engine === 'embedded' ? undefined : await import('./http-driver.js');
    const transport = await openTransport(target, Math.max(2, opts.threads ?? 4), opts.lockAs);
    const crashAfter = crashPointFromEnv();
    const driver = crashAfter === undefined ? transport : new CrashPointDriver(transport, crashAfter);
    let version: string;
    try {
      const r = await driver.query<{ v: string }>('SELECT version() AS v');
      version = r.rows[0]?.v ?? '0';
    } catch (err) {
      await driver.close().catch(() => undefined);
      if (err instanceof KilnError && err.code === 'WAREHOUSE_UNREACHABLE') {
        throw new KilnError(err.code, `target '${target.name}': ${err.message}`, err.hint ? { hint: err.hint } : {});
      }
      const where = !http ? target.path : http.redactUrl(target.url ?? '');
      throw new KilnError('WAREHOUSE_UNREACHABLE', `target '${target.name}' (${where}) did not answer SELECT version(): ${(err as Error).message}`, {
        hint: 'check the target settings in project.yml',
      });
    }
    let clusterNodes = 0;
    if (target.cluster) {
      try {
        clusterNodes = await countClusterNodes(driver, target);
        if (target.engine !== 'embedded') await assertZookeeperReachable(driver, target.name, target.cluster);
      } catch (err) {
        await driver.close().catch(() => undefined);
        throw err;
      }
    }
    return new Adapter(driver, target, version, capabilitiesFor(version), clusterNodes);
  }

  /**
   * This adapter with `check` awaited before every statement: a run that holds the target lock
   * passes its "still mine?" check, so it stops before its next write once the lock is lost.
   */
  guarded(check: () => Promise<void>): Adapter {
    return new Adapter(new GuardedDriver(this.driver, check), this.target, this.version, this.capabilities, this.clusterNodes);
  }

  async execute(sql: string, opts?: ExecOptions): Promise<ExecResult> {
    if (!('insert_quorum' in this.always)) return this.driver.execute(sql, this.withSettings(opts));
    // With insert_quorum, a Replicated table takes one quorum INSERT at a time (18.16): another
    // run's or thread's write into the same table (the ledger, the quarantine) is refused before
    // anything is written, so trying again until the other's quorum is reached is safe.
    const deadline = performance.now() + QUORUM_WAIT_MS;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      try {
        return await this.driver.execute(sql, this.withSettings(opts));
      } catch (err) {
        if (!(err instanceof SqlError && err.clickhouseCode === CH_ERRORS.UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE) || performance.now() >= deadline) throw err;
      }
      await sleep(wait);
    }
  }

  query<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.driver.query<T>(sql, this.withSettings(opts));
  }

  /** `columns`: the names the body's rows give, in order; the table's other columns get their defaults. */
  insertStream(table: ddl.Relation, body: Readable, format: string, opts: ExecOptions & { columns?: readonly string[] } = {}): Promise<ExecResult> {
    return this.driver.insertStream(table, body, format, this.withSettings(opts));
  }

  insertFile(table: ddl.Relation, path: string, format: string, opts?: ExecOptions & { structure?: string }): Promise<ExecResult> {
    return this.driver.insertFile(table, path, format, this.withSettings(opts));
  }

  /**
   * Rows of a SELECT over local files, inserted by ClickHouse (see Driver.insertLocalSelect). The
   * INSERT carries the settings every statement of this target does (insert_quorum on a
   * replicated cluster, …); `opts.settings` stay the local SELECT's.
   */
  insertLocalSelect(table: ddl.Relation, columns: readonly string[], select: string, opts?: LocalSelectOptions): Promise<ExecResult> {
    if (Object.keys(this.always).length === 0) return this.driver.insertLocalSelect(table, columns, select, opts);
    return this.driver.insertLocalSelect(table, columns, select, { ...opts, insertSettings: { ...this.always, ...opts?.insertSettings } });
  }

  queryLocal<T = Record<string, unknown>>(sql: string, opts?: ExecOptions): Promise<QueryResult<T>> {
    return this.driver.queryLocal<T>(sql, opts);
  }

  /**
   * Settings of an INSERT through a Distributed table (a distributed model's, a sharded raw
   * table's): synchronous, with a quorum of every replica of a shard where there are several. A
   * replica that dies during the insert would hold it for insert_quorum_timeout (10 minutes by
   * default): a minute unless the target's settings say otherwise.
   */
  async distributedInsertSettings(): Promise<Record<string, number>> {
    const r = await this.query<{ n: string | number }>(replicasPerShard(this.ddl));
    const replicas = Number(r.rows[0]?.n ?? 1);
    if (replicas <= 1) return { ...SYNC_DISTRIBUTED_INSERT };
    const settings: Record<string, number> = { ...SYNC_DISTRIBUTED_INSERT, insert_quorum: replicas };
    if (this.target.settings?.insert_quorum_timeout === undefined) settings.insert_quorum_timeout = DISTRIBUTED_QUORUM_TIMEOUT_MS;
    return settings;
  }

  /**
   * Puts a fully built `built` relation in place of `target` so readers never see it missing or
   * half-built: EXCHANGE TABLES where the server can, otherwise one RENAME statement that moves
   * the old one aside (to `old`) and the new one in. The old relation is dropped afterwards.
   */
  async swap(built: ddl.Relation, target: ddl.Relation, opts: { readonly targetExists: boolean; readonly old: ddl.Relation }): Promise<void> {
    const d = this.ddl;
    if (!opts.targetExists) {
      await this.execute(ddl.renameTables(d, [[built, target]]));
      return;
    }
    if (d.capabilities.exchangeTables) {
      try {
        await this.execute(ddl.exchangeTables(d, built, target));
        await this.execute(ddl.dropRelation(d, built));
        return;
      } catch (err) {
        // An Ordinary database cannot exchange; fall through to the rename pair.
        if (!(err instanceof SqlError && err.clickhouseCode === NOT_IMPLEMENTED)) throw err;
      }
    }
    await this.execute(ddl.renameTables(d, [[target, opts.old], [built, target]]));
    await this.execute(ddl.dropRelation(d, opts.old));
  }

  /**
   * Deletes the rows matching `predicate` and returns once they are gone: old servers run the
   * delete as an asynchronous mutation, waited for here up to MUTATION_WAIT_MS.
   */
  async deleteWhere(relation: ddl.Relation, predicate: string): Promise<void> {
    await this.execute(ddl.deleteWhere(this.ddl, relation, predicate));
    if (this.capabilities.lightweightDelete) return;
    const deadline = performance.now() + MUTATION_WAIT_MS;
    for (let wait = 5; ; wait = Math.min(wait * 2, 500)) {
      const r = await this.query<{ n: string | number }>(ddl.pendingMutations(relation));
      if (Number(r.rows[0]?.n ?? 0) === 0) return;
      if (performance.now() >= deadline) {
        throw new KilnError('SQL_ERROR', `a delete on ${relation.database}.${relation.name} did not finish in ${MUTATION_WAIT_MS / 60_000} minutes`, {
          hint: `see its mutation in system.mutations (database = '${relation.database}', table = '${relation.name}'); KILL MUTATION stops one that is stuck`,
        });
      }
      await sleep(wait);
    }
  }

  /** Replaces each of `partitionIds` in `to` with the same partition of `from`: atomic per partition, and idempotent. */
  async replacePartitions(from: ddl.Relation, to: ddl.Relation, partitionIds: readonly string[]): Promise<void> {
    for (const pid of partitionIds) await this.execute(ddl.replacePartitionFrom(this.ddl, to, pid, from));
  }

  /**
   * An empty table `target` with `source`'s columns and engine (partition operations between the
   * two need that). On a replicated target its engine is read from SHOW CREATE and given a new
   * ZooKeeper path: `CREATE TABLE … AS source` alone would copy source's path, which is taken.
   */
  async createEmptyCopy(target: ddl.Relation, source: ddl.Relation): Promise<void> {
    if (!this.ddl.replication) {
      await this.execute(ddl.createTableAsTable(this.ddl, target, source));
      return;
    }
    const r = await this.query<{ statement: string }>(ddl.showCreate(source));
    const storage = ddl.storageOfCreate(r.rows[0]?.statement ?? '');
    await this.execute(ddl.createTableAsTable(this.ddl, target, source, storage));
  }

  /** Columns ClickHouse infers for a local file, in types this server has. */
  async describeFile(path: string, format: string, opts?: ExecOptions): Promise<ColumnInfo[]> {
    const cols = await this.driver.describeFile(path, format, opts);
    return cols.map((c) => ({ name: c.name, type: this.portableType(c.type) }));
  }

  /** Maps types newer than the server to ones it has (inference runs on a current engine). */
  portableType(type: string): string {
    // ON CLUSTER statements run on each node with its default profile, not this session's
    // settings: a server that needs allow_experimental_low_cardinality_type gets plain types there.
    if (!this.capabilities.stableLowCardinality && this.ddl.cluster) type = type.replace(/\bLowCardinality\((.*)\)/g, '$1');
    if (this.capabilities.bool) return type;
    return type
      .replace(/\bBool\b/g, 'UInt8')
      .replace(/\bDateTime64\([^)]*\)/g, 'DateTime')
      .replace(/\bDate32\b/g, 'Date');
  }

  async createDatabase(database: string): Promise<void> {
    await this.execute(ddl.createDatabase(this.ddl, database));
  }

  /** Tables and views in the given databases (one query: the warehouse state a plan reads). */
  async listRelations(databases: readonly string[]): Promise<RelationInfo[]> {
    if (databases.length === 0) return [];
    const list = databases.map(quoteString).join(', ');
    const r = await this.query<{ database: string; name: string; engine: string }>(
      `SELECT database, name, engine FROM system.tables WHERE database IN (${list})`,
    );
    return r.rows.map((row) => ({ ...row, isView: row.engine === 'View' }));
  }

  /** Columns in table order (system.columns lists them so; 18.16 has no `position` to sort by). */
  async columns(relation: ddl.Relation): Promise<ColumnInfo[]> {
    const r = await this.query<ColumnInfo>(
      `SELECT name, type FROM system.columns WHERE database = ${quoteString(relation.database)} AND table = ${quoteString(relation.name)}`,
    );
    return r.rows;
  }

  /** Parses a statement without running it; a server too old to EXPLAIN has it parsed by the local engine. */
  async parse(statement: string): Promise<void> {
    const sql = parseOnly(statement);
    if (this.capabilities.explainAst) await this.query(sql);
    else await this.queryLocal(sql);
  }

  async countRows(relation: ddl.Relation): Promise<number> {
    const r = await this.query<{ n: string | number }>(ddl.countRows(relation));
    return Number(r.rows[0]?.n ?? 0);
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}

/**
 * A bare connection to the target, not counted by KILN_CRASH_AFTER: the crash-point wrapper is
 * added by connect(); the target lock uses this directly for its own (wall-clock) traffic.
 * The embedded engine takes its folder lock here, recording `lockAs` as the holder.
 */
export async function openTransport(target: TargetConfig, maxConnections: number, lockAs?: LockHolder): Promise<Driver> {
  // Drivers load on connect: chdb's native library and the HTTP client cost a few hundred ms of
  // startup that compile, ls and clean never need.
  if (target.engine === 'embedded') {
    return (await import('./embedded-driver.js')).EmbeddedDriver.open(target.path!, { target: target.name, ...(lockAs ? { holder: lockAs } : {}), ...(target.settings ? { settings: target.settings } : {}) });
  }
  const http = await import('./http-driver.js');
  const driver = new http.HttpDriver({
    url: target.url!,
    username: target.username ?? 'default',
    password: target.password ?? '',
    ...(target.settings ? { settings: target.settings } : {}),
    maxConnections,
  });
  return target.cluster ? new ClusterDriver(driver, target.cluster) : driver;
}

/**
 * The DDL context of a target: its cluster, and on a replicated cluster target the Replicated
 * engine arguments. `replicated: true` without a cluster (ClickHouse Cloud: the server replicates
 * every MergeTree table itself) changes no statement.
 */
export function ddlContext(target: TargetConfig, capabilities: Capabilities): ddl.DdlContext {
  const replicated = target.cluster !== undefined && target.replicated !== false;
  return {
    capabilities,
    ...(target.cluster ? { cluster: target.cluster } : {}),
    ...(replicated
      ? {
          replication: {
            zookeeperPath: target.zookeeper_path ?? ddl.DEFAULT_ZOOKEEPER_PATH,
            replicaName: target.replica_name ?? ddl.DEFAULT_REPLICA_NAME,
            uniqueId: () => randomUUID(),
          },
        }
      : {}),
  };
}

/**
 * Settings that make what kiln just wrote visible on every node before it goes on, so data tests,
 * downstream models and a user reading any replica see every row:
 * - insert_quorum = every node: an INSERT into a Replicated table returns once all replicas have
 *   its rows (kiln's tables are replicated on every node; a replica down fails the INSERT with
 *   a message naming the quorum, instead of leaving a node behind);
 * - replication_alter_partitions_sync = 2: REPLACE/ATTACH/DROP PARTITION wait for every replica.
 * kiln itself reads on the node it writes to, so select_sequential_consistency is not needed for
 * its own reads; SYSTEM SYNC REPLICA would wait only for the node it runs on.
 * On the server-replicated case (replicated without a cluster) SharedMergeTree commits an INSERT
 * for every replica already; select_sequential_consistency makes a read see it wherever it runs.
 */
export function readYourWrites(target: TargetConfig, ctx: ddl.DdlContext, clusterNodes: number): Record<string, number> {
  if (ctx.replication && clusterNodes > 1) return { insert_quorum: clusterNodes, replication_alter_partitions_sync: 2 };
  if (!target.cluster && target.replicated === true) return { select_sequential_consistency: 1 };
  return {};
}

/** Nodes of the target's cluster; a cluster the server does not know is a TARGET_INVALID error naming those it knows. */
async function countClusterNodes(driver: Driver, target: TargetConfig): Promise<number> {
  const r = await driver.query<{ cluster: string; n: string | number }>('SELECT cluster, count() AS n FROM system.clusters GROUP BY cluster ORDER BY cluster');
  const found = r.rows.find((row) => row.cluster === target.cluster);
  if (found) return Number(found.n);
  const known = r.rows.map((row) => row.cluster);
  throw new KilnError('TARGET_INVALID', `target '${target.name}': the server has no cluster '${target.cluster}'`, {
    hint: known.length
      ? `clusters in its remote_servers: ${known.join(', ')}`
      : 'its remote_servers config defines no cluster: add one, or remove cluster: from the target',
  });
}
