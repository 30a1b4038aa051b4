import { afterAll, expect, it } from 'vitest';
import { CLUSTER_NAME, describeWithCluster } from '../harness/clickhouse-cluster.js';
import { clusterEnv, clusterProject, clusterSession } from '../helpers/cluster-target.js';
import { crashSweep, reportSweep, serverView, type WarehouseView } from '../helpers/crash-sweep.js';
import { allOutput, removeProjects, runKiln } from '../helpers/kiln-cli.js';

/**
 * Exactly once for distributed_incremental on the harness cluster (2 shards × 2 replicas): an
 * insert_overwrite increment killed after its statements (every stride-th one; each with
 * KILN_SWEEPS=all), then run again, leaves every node as a clean run does — the same rows in
 * `<name>` and in each shard's `<name>_local`, nothing duplicated or lost, no scratch table — and
 * right after each kill a reader on either shard sees the table wholly before or wholly after.
 */

afterAll(removeProjects);

const DB = 'dsweep';
const N = 400;
const FILES = {
  'models/events.sql': `{{ config(materialized='distributed_table', sharding_key='cityHash64(id)', order_by='id') }}
SELECT toUInt64(number) AS id, number * 3 AS amount FROM numbers(${N})`,
  'models/daily.sql': `{{ config(materialized='distributed_incremental', incremental_strategy='insert_overwrite', partition_by='day', sharding_key='id', order_by='id') }}
SELECT id, toUInt8(id % 5) AS day, amount * {{ var('factor', 1) }} AS amount FROM {{ ref('events') }}
{% if is_incremental() %}WHERE id % 5 IN (1, 2){% endif %}`,
};

/** Each day's total when days 1 and 2 were computed with `factor` (the rest with 1). */
function totals(factor: number): Record<number, number> {
  const out: Record<number, number> = {};
  for (let id = 0; id < N; id++) out[id % 5] = (out[id % 5] ?? 0) + id * 3 * (id % 5 === 1 || id % 5 === 2 ? factor : 1);
  return out;
}

describeWithCluster('distributed_incremental killed mid-run on a 2 x 2 cluster', (getCluster) => {
  const session = clusterSession(getCluster);

  it('insert_overwrite: a kill after any statement, then a rerun, ends as a clean run on every node', { timeout: 900_000 }, async () => {
    const cluster = session.cluster();
    const env = clusterEnv(cluster, 0);
    const dir = clusterProject(DB, CLUSTER_NAME, FILES);
    const nodeViews = cluster.nodes.map((node) => ({ index: node.index, read: serverView({ url: node.url, username: cluster.username, password: cluster.password }, [DB]) }));
    // Every node's relations, each named with its node: a shard's `_local` differs from the other's.
    const view = async (): Promise<WarehouseView> => {
      const out: Record<string, readonly string[]> = {};
      for (const { index, read } of nodeViews) for (const [name, rows] of Object.entries(await read())) out[`node${index}:${name}`] = rows;
      return out;
    };
    const dayTotals = async (node: number) =>
      Object.fromEntries((await session.rows<{ day: number; total: string }>(node, `SELECT day, sum(amount) AS total FROM ${DB}.daily GROUP BY day ORDER BY day`)).map((r) => [r.day, Number(r.total)]));
    const before = totals(1);
    const after = totals(10);

    const sweep = await crashSweep({
      prepare: async () => {
        const built = await runKiln(dir, ['run'], { env });
        expect(built.code, allOutput(built)).toBe(0);
        return dir;
      },
      // The starting state again: daily rebuilt whole with factor 1 (this run also drops what a killed one left).
      restore: async (d) => {
        const reset = await runKiln(d, ['run', '--no-validate', '--select', 'daily', '--full-refresh'], { env });
        if (reset.code !== 0) throw new Error(`restore failed:\n${allOutput(reset)}`);
      },
      args: ['run', '--select', 'daily', '--vars', '{factor: 10}'],
      env,
      view,
      // A reader on a node of each shard sees the increment whole or not at all.
      afterCrash: async (_d, point) => {
        for (const node of [0, 3]) {
          const seen = await dayTotals(node);
          if (JSON.stringify(seen) !== JSON.stringify(before) && JSON.stringify(seen) !== JSON.stringify(after)) {
            return `node ${node} after a kill at ${point} reads ${JSON.stringify(seen)}: neither ${JSON.stringify(before)} nor ${JSON.stringify(after)}`;
          }
        }
        return null;
      },
      stride: 2,
    });
    reportSweep('distributed_incremental insert_overwrite on the cluster', sweep, 8);
    // The clean run's result, which every rerun was compared with, is the increment applied once.
    for (const node of [0, 1, 2, 3]) expect(await dayTotals(node), `node ${node}`).toEqual(after);
    expect(Number((await session.rows<{ n: string }>(2, `SELECT uniqExact(id) AS n FROM ${DB}.daily`))[0]!.n)).toBe(N);
  });
});
