import { expect, it } from 'vitest';
import { CLUSTER_NAME, describeWithCluster } from '../harness/clickhouse-cluster.js';
import { clusterEnv, clusterProjectYml, clusterSession } from '../helpers/cluster-target.js';
import { startKiln, writeProject } from '../helpers/kiln-cli.js';

/**
 * Faults on the harness cluster (2 shards × 2 replicas): a replica that goes down during a build,
 * one killed in the middle of an insert, and ZooKeeper down when a run starts. After each, what a
 * user checks: the error says what happened, and once the node is back a rerun ends as a clean
 * run does (every row once, replicas equal, no scratch table on any node).
 */
const DB = 'faults';

const files = {
  'project.yml': clusterProjectYml(
    DB,
    CLUSTER_NAME,
    'faults',
    [
      '    settings:',
      '      # An ON CLUSTER statement waits this long for a node that is down (180 s by default).',
      '      distributed_ddl_task_timeout: 4',
      '      # A quorum insert waits this long (ms) for a replica that died during it.',
      '      insert_quorum_timeout: 5000',
      '',
    ].join('\n'),
  ),
  // The pre_hook is a window in which the test stops a node, before the first ON CLUSTER statement of the build.
  'models/events.sql': `{{ config(materialized='distributed_table', sharding_key='id', order_by='id', pre_hook=(['SELECT sleep(3) AS window_for_the_test', 'SELECT sleep(3) AS window_for_the_test'] if var('window', false) else [])) }}
SELECT toUInt64(number) AS id, toString(number % 7) AS kind, concat('row-', toString(number), '-padded-to-make-the-insert-take-a-while') AS pad FROM numbers({{ var('n', 1000) }})`,
};

describeWithCluster('faults on a 2 x 2 cluster', (getCluster) => {
  const session = clusterSession(getCluster);
  const dir = writeProject(files);
  const count = async (node: number, sql: string) => Number((await session.rows<{ n: string }>(node, sql))[0]!.n);
  const scratch = async () => {
    const out: string[] = [];
    for (const node of session.cluster().nodes) {
      const rows = await session.rows<{ name: string }>(node.index, `SELECT name FROM system.tables WHERE database = '${DB}' AND name LIKE '\\_\\_kiln%'`);
      out.push(...rows.map((r) => `node ${node.index}: ${r.name}`));
    }
    return out;
  };
  /** Waits until node 0 runs a query matching `like`, polling system.processes. */
  const whenRunning = async (like: string) => {
    for (let i = 0; i < 600; i++) {
      if ((await count(0, `SELECT count() AS n FROM system.processes WHERE query LIKE '${like}' AND query NOT LIKE '%system.processes%'`)) > 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no query like ${like} ran on node 0`);
  };
  const converged = async (rows: number) => {
    for (const node of session.cluster().nodes) expect(await count(node.index, `SELECT count() AS n FROM ${DB}.events`)).toBe(rows);
    for (const [a, b] of [[0, 1], [2, 3]] as const) {
      const ids = async (n: number) => (await session.rows<{ h: string }>(n, `SELECT groupBitXor(cityHash64(id)) AS h, count() AS n FROM ${DB}.events_local`))[0];
      expect(await ids(b)).toEqual(await ids(a));
    }
    expect(await scratch()).toEqual([]);
  };

  it('a replica down during a build: the error names it; once it is back a rerun converges with nothing left over', async () => {
    const cluster = session.cluster();
    const first = await session.kiln(dir, ['run']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const run = startKiln(dir, ['run', '--vars', '{n: 2000, window: true}'], { env: clusterEnv(cluster, 0) });
    await whenRunning('%window_for_the_test%');
    await cluster.stopNode(3, { crash: true });
    try {
      const failed = await run.done;
      const down = cluster.nodes[3]!;
      expect(failed.code).toBe(1);
      expect(failed.stdout + failed.stderr).toContain(`replica 127.0.0.1:${down.tcpPort} (shard 2, replica 2) of cluster '${CLUSTER_NAME}' did not run 'CREATE TABLE`);
      expect(failed.stdout + failed.stderr).toContain('within distributed_ddl_task_timeout (4 s): it is down or cannot reach ZooKeeper');
      // Readers still see the last build on the nodes that are up.
      expect(await count(2, `SELECT count() AS n FROM ${DB}.events`)).toBe(1000);
    } finally {
      await cluster.startNode(3);
    }
    const rerun = await session.kiln(dir, ['run', '--vars', '{n: 2000}']);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    await converged(2000);
  });

  it('a replica killed in the middle of an insert loses nothing: after its restart a rerun has every row once', async () => {
    const cluster = session.cluster();
    const n = 2_000_000;
    expect((await session.kiln(dir, ['run'])).code).toBe(0);
    const run = startKiln(dir, ['run', '--vars', `{n: ${n}}`], { env: clusterEnv(cluster, 0) });
    await whenRunning('INSERT INTO `faults`.`__kiln_tmp__events__%_ins`%');
    await cluster.stopNode(1, { crash: true });
    try {
      const during = await run.done;
      // The quorum insert cannot reach every replica of shard 1 with one of them gone: the build fails before its swap.
      expect(during.code).toBe(1);
      expect(await count(0, `SELECT count() AS n FROM ${DB}.events`)).toBe(1000);
    } finally {
      await cluster.startNode(1);
    }
    const rerun = await session.kiln(dir, ['run', '--vars', `{n: ${n}}`]);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    await converged(n);
  });

  it('ZooKeeper down at start is exit 2 with a hint, on one line and without a stack', async () => {
    const cluster = session.cluster();
    await cluster.stopZookeeper();
    try {
      const r = await session.kiln(dir, ['run']);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^error: target 'ch': cluster '${CLUSTER_NAME}' needs ZooKeeper, and the node kiln talks to cannot reach it \\(.+\\)$`));
      expect(lines.slice(1)).toEqual(["  hint: start ZooKeeper (or ClickHouse Keeper) and check <zookeeper> in the servers' config; nothing was changed"]);
    } finally {
      await cluster.startZookeeper();
    }
  });
});
