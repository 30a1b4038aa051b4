import { KilnError } from '../errors.js';
import type { Driver } from './driver.js';
import { quoteString } from './quoting.js';
import { SqlError } from './sql-error.js';
import { WrappingDriver, type DriverCall } from './wrapping-driver.js';

/**
 * What goes wrong on a cluster, said as the user can act on it: an `ON CLUSTER` statement that a
 * node did not run in time names that node, and a ZooKeeper the node cannot reach is said before
 * the run changes anything.
 */

const TIMEOUT_EXCEEDED = 159;

/** The ZooKeeper task of an ON CLUSTER statement that timed out, from its message; undefined for any other error. */
export function clusterDdlTimeoutTask(err: unknown): string | undefined {
  if (!(err instanceof SqlError) || err.clickhouseCode !== TIMEOUT_EXCEEDED) return undefined;
  return /Watching task (\S+) is executing longer than distributed_ddl_task_timeout/.exec(err.message)?.[1];
}

/** The hosts that have run a distributed DDL task: the children of its `finished` node. */
export function finishedHostsQuery(task: string): string {
  return `SELECT name FROM system.zookeeper WHERE path = ${quoteString(`${task}/finished`)}`;
}

/** The nodes of a cluster as the server knows them. */
export function clusterHostsQuery(cluster: string): string {
  return `SELECT host_name, port, shard_num, replica_num FROM system.clusters WHERE cluster = ${quoteString(cluster)} ORDER BY shard_num, replica_num`;
}

/** A ZooKeeper read that fails when the node has no session (ZooKeeper down or unreachable). */
export const ZOOKEEPER_PROBE = "SELECT count() AS n FROM system.zookeeper WHERE path = '/'";

export interface ClusterHost {
  readonly host_name: string;
  readonly port: number | string;
  readonly shard_num: number | string;
  readonly replica_num: number | string;
}

/**
 * The cluster's hosts missing from a task's `finished` list. ZooKeeper node names are
 * `host:port`, percent-escaped the way ClickHouse escapes file names.
 */
export function unfinishedHosts(hosts: readonly ClusterHost[], finished: readonly string[]): ClusterHost[] {
  const decode = (name: string) => {
    try {
      return decodeURIComponent(name);
    } catch {
      return name;
    }
  };
  const done = new Set(finished.map(decode));
  return hosts.filter((h) => !done.has(`${h.host_name}:${h.port}`));
}

/** The error of an ON CLUSTER statement some nodes did not run within distributed_ddl_task_timeout. */
export function clusterTimeoutError(cluster: string, err: SqlError, missing: readonly ClusterHost[] | undefined): KilnError {
  const seconds = /distributed_ddl_task_timeout \(=(\d+)\)/.exec(err.message)?.[1];
  const within = `within distributed_ddl_task_timeout${seconds ? ` (${seconds} s)` : ''}`;
  const who = missing?.length
    ? `${missing.length === 1 ? 'replica' : 'replicas'} ${missing.map((h) => `${h.host_name}:${h.port} (shard ${h.shard_num}, replica ${h.replica_num})`).join(', ')} of cluster '${cluster}' did not run`
    : `a node of cluster '${cluster}' did not run`;
  const statement = err.sql.split('\n')[0]!.slice(0, 120);
  return new KilnError('SQL_ERROR', `${who} '${statement}' ${within}: it is down or cannot reach ZooKeeper`, {
    cause: err,
    hint: 'bring it back and run again: it runs the queued statement when it returns, and the rerun drops what this run left on every node (raise distributed_ddl_task_timeout in the target\'s settings for a slow node)',
  });
}

/**
 * The cluster target's driver: an ON CLUSTER statement that timed out is reported with the
 * replicas that did not run it (read from the task's ZooKeeper node), instead of ClickHouse's
 * "There are 1 unfinished hosts". Everything else passes through unchanged.
 */
export class ClusterDriver extends WrappingDriver {
  constructor(
    inner: Driver,
    private readonly cluster: string,
  ) {
    super(inner, true);
  }

  /** Only statements (execute, query) go ON CLUSTER; inserts and local reads pass unchanged. */
  protected async around<R>(call: DriverCall, run: () => Promise<R>): Promise<R> {
    if (call.method !== 'execute' && call.method !== 'query') return run();
    try {
      return await run();
    } catch (err) {
      const task = clusterDdlTimeoutTask(err);
      if (!task) throw err;
      throw clusterTimeoutError(this.cluster, err as SqlError, await this.missingHosts(task).catch(() => undefined));
    }
  }

  private async missingHosts(task: string): Promise<ClusterHost[]> {
    const hosts = (await this.inner.query<ClusterHost>(clusterHostsQuery(this.cluster))).rows;
    const finished = (await this.inner.query<{ name: string }>(finishedHostsQuery(task))).rows.map((r) => r.name);
    return unfinishedHosts(hosts, finished);
  }
}

/**
 * Before a cluster target's run changes anything: its node must reach ZooKeeper, which every ON
 * CLUSTER statement and replicated table needs. Unreachable is exit 2 (nothing was executed).
 */
export async function assertZookeeperReachable(driver: Driver, targetName: string, cluster: string): Promise<void> {
  try {
    await driver.query(ZOOKEEPER_PROBE);
  } catch (err) {
    if (!(err instanceof SqlError)) throw err;
    throw new KilnError('WAREHOUSE_UNREACHABLE', `target '${targetName}': cluster '${cluster}' needs ZooKeeper, and the node kiln talks to cannot reach it (${err.message.split('\n')[0]})`, {
      hint: "start ZooKeeper (or ClickHouse Keeper) and check <zookeeper> in the servers' config; nothing was changed",
    });
  }
}
