import { describe, expect, it } from 'vitest';
import { clusterDdlTimeoutTask, clusterTimeoutError, finishedHostsQuery, unfinishedHosts } from '../../src/adapters/cluster-errors.js';
import { SqlError } from '../../src/adapters/sql-error.js';

// What 18.16 answers when a node of the cluster did not run an ON CLUSTER statement in time.
const TIMEOUT =
  'Code: 159, e.displayText() = DB::Exception: Watching task /clickhouse/task_queue/ddl/query-0000000007 is executing longer than distributed_ddl_task_timeout (=4) seconds. There are 1 unfinished hosts (0 of them are currently active), they are going to execute the query in background, e.what() = DB::Exception';
const hosts = [
  { host_name: '127.0.0.1', port: 9001, shard_num: 1, replica_num: 1 },
  { host_name: '127.0.0.1', port: 9002, shard_num: 1, replica_num: 2 },
  { host_name: '127.0.0.1', port: 9003, shard_num: 2, replica_num: 1 },
  { host_name: '127.0.0.1', port: 9004, shard_num: 2, replica_num: 2 },
];

describe('ON CLUSTER timeouts', () => {
  const sql = 'CREATE TABLE `a`.`__kiln_tmp__m__r1_local` ON CLUSTER `c`\n(\n  `id` UInt64\n)';
  const err = new SqlError(TIMEOUT, 159, sql);

  it('are recognised by code and message, with the task to read', () => {
    expect(clusterDdlTimeoutTask(err)).toBe('/clickhouse/task_queue/ddl/query-0000000007');
    expect(clusterDdlTimeoutTask(new SqlError('Code: 159, e.displayText() = DB::Exception: Timeout exceeded: elapsed 5 seconds', 159, 'SELECT 1'))).toBeUndefined();
    expect(clusterDdlTimeoutTask(new Error(TIMEOUT))).toBeUndefined();
    expect(finishedHostsQuery('/clickhouse/task_queue/ddl/query-0000000007')).toBe(
      "SELECT name FROM system.zookeeper WHERE path = '/clickhouse/task_queue/ddl/query-0000000007/finished'",
    );
  });

  it('name the replicas that did not finish (ZooKeeper escapes the host names)', () => {
    expect(unfinishedHosts(hosts, ['127.0.0.1:9001', '127%2E0%2E0%2E1:9002', '127.0.0.1:9003'])).toEqual([hosts[3]]);
    const error = clusterTimeoutError('c', err, [hosts[3]!]);
    expect(error.code).toBe('SQL_ERROR');
    expect(error.message).toBe(
      "replica 127.0.0.1:9004 (shard 2, replica 2) of cluster 'c' did not run 'CREATE TABLE `a`.`__kiln_tmp__m__r1_local` ON CLUSTER `c`' within distributed_ddl_task_timeout (4 s): it is down or cannot reach ZooKeeper",
    );
    expect(error.hint).toMatch(/^bring it back and run again/);
  });

  it('still say what happened when the replicas cannot be read', () => {
    expect(clusterTimeoutError('c', err, undefined).message).toMatch(/^a node of cluster 'c' did not run 'CREATE TABLE/);
  });
});
