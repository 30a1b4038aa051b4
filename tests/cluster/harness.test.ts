import { expect, it } from 'vitest';
import { CLUSTER_NAME, describeWithCluster } from '../harness/clickhouse-cluster.js';

describeWithCluster('cluster harness: ZooKeeper and 2 shards x 2 replicas of clickhouse-server', (getCluster) => {
  it('every node knows the whole cluster and its own macros', async () => {
    const cluster = getCluster();
    for (const node of cluster.nodes) {
      const hosts = await cluster.query(node.index, `SELECT shard_num, replica_num, port FROM system.clusters WHERE cluster = '${CLUSTER_NAME}' ORDER BY shard_num, replica_num FORMAT CSV`);
      expect(hosts.split('\n')).toEqual(cluster.nodes.map((n) => `${n.shard},${(n.index % 2) + 1},${n.tcpPort}`));
      const macros = await cluster.query(node.index, "SELECT macro, substitution FROM system.macros WHERE macro IN ('shard', 'replica') ORDER BY macro FORMAT CSV");
      expect(macros).toBe(`"replica","${node.replica}"\n"shard","${node.shard}"`);
    }
  });

  it('a Replicated table created ON CLUSTER replicates within a shard, not across shards', async () => {
    const cluster = getCluster();
    await cluster.query(0, `CREATE DATABASE IF NOT EXISTS smoke ON CLUSTER ${CLUSTER_NAME}`);
    await cluster.query(
      0,
      `CREATE TABLE smoke.t ON CLUSTER ${CLUSTER_NAME} (id UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/smoke/t', '{replica}') ORDER BY id`,
    );
    // Node 0 and node 1 are the replicas of shard 1; node 2 is in shard 2.
    await cluster.query(0, 'INSERT INTO smoke.t VALUES (1), (2), (3)');
    await cluster.query(1, 'SYSTEM SYNC REPLICA smoke.t');
    expect(await cluster.query(1, 'SELECT groupArray(id) FROM (SELECT id FROM smoke.t ORDER BY id)')).toBe('[1,2,3]');
    await cluster.query(2, 'INSERT INTO smoke.t VALUES (10)');
    await cluster.query(3, 'SYSTEM SYNC REPLICA smoke.t');
    expect(await cluster.query(3, 'SELECT groupArray(id) FROM smoke.t')).toBe('[10]');
    expect(await cluster.query(0, 'SELECT count() FROM smoke.t')).toBe('3');
    await cluster.query(0, `DROP TABLE smoke.t ON CLUSTER ${CLUSTER_NAME}`);
    for (const node of cluster.nodes) {
      expect(await cluster.query(node.index, "SELECT count() FROM system.tables WHERE database = 'smoke'")).toBe('0');
    }
  });

  it('a stopped node comes back with its data, and a stopped ZooKeeper too', async () => {
    const cluster = getCluster();
    await cluster.query(0, `CREATE TABLE smoke.back ON CLUSTER ${CLUSTER_NAME} (id UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/smoke/back', '{replica}') ORDER BY id`);
    await cluster.query(0, 'INSERT INTO smoke.back VALUES (7)');
    await cluster.stopNode(1, { crash: true });
    await cluster.startNode(1);
    // Answering /ping comes before the node's ZooKeeper session, and 18.16's SYNC REPLICA waits
    // only for the queue the replica has pulled from the log so far (after a restart it can
    // return before the missing part is even queued; seen in CI). So poll for the row itself, as
    // a user would retry.
    await eventually(async () => {
      await cluster.query(1, 'SYSTEM SYNC REPLICA smoke.back');
      expect(await cluster.query(1, 'SELECT groupArray(id) FROM smoke.back')).toBe('[7]');
    });
    await cluster.stopZookeeper();
    // Whichever the node notices first: the lost session, or a table gone read-only.
    await expect(cluster.query(0, 'INSERT INTO smoke.back VALUES (8)')).rejects.toThrow(/zookeeper|read-?only|session|connection loss|coordination/i);
    await cluster.startZookeeper();
    // The node reconnects by itself: an INSERT succeeds again (polled: reconnecting takes a moment).
    await eventually(() => cluster.query(0, 'INSERT INTO smoke.back VALUES (9)'));
    expect(await cluster.query(0, 'SELECT groupArray(id) FROM (SELECT id FROM smoke.back ORDER BY id)')).toBe('[7,9]');
  });
});

/** `run` once it succeeds, tried every 200 ms for up to a minute; its last error otherwise. */
async function eventually(run: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run();
      return;
    } catch (error) {
      if (attempt >= 300) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
