import { afterAll, expect, it } from 'vitest';
import { describeWithCluster } from '../harness/clickhouse-cluster.js';
import { clusterEnv, clusterProject, clusterSession } from '../helpers/cluster-target.js';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { allOutput, removeProjects, runKiln, startKiln, type RunningKiln } from '../helpers/kiln-cli.js';

/**
 * The promises kiln keeps on one node, kept on a cluster (issue 14): the target lock is
 * cluster-wide (a second kiln on another node is refused, or waits), and a table build killed
 * after any of its statements leaves nothing behind on any node once it is run again.
 */

afterAll(removeProjects);

const ROWS = 20_000;
const FILES = {
  'sources.yml': `sources:
  - name: ex
    loader: csv
    tables:
      - name: items
        path: data/items.csv
        columns: [{ name: id, type: UInt32 }, { name: name, type: String }]
`,
  'data/items.csv': `id,name\n${Array.from({ length: ROWS }, (_, i) => `${i + 1},n${i % 97}`).join('\n')}\n`,
  'models/dim_items.sql': "{{ config(materialized='table', order_by='id') }}\nSELECT id, name FROM {{ source('ex', 'items') }}",
  'models/name_counts.sql': "{{ config(materialized='table', order_by='name') }}\nSELECT name, count() AS n FROM {{ ref('dim_items') }} GROUP BY name",
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithCluster('exactly once on a cluster: the cluster-wide lock and a crash sweep', (getCluster) => {
  const session = clusterSession(getCluster);
  const nodes = () => session.cluster().nodes;
  const count = async (node: number, sql: string) => Number((await session.rows<{ n: string }>(node, sql))[0]!.n);
  const lockOn = async (node: number, db: string) => (await count(node, `SELECT count() AS n FROM system.tables WHERE database = '_kiln' AND name = 'lock__${db}'`)) === 1;
  const leftovers = async (node: number, dbs: readonly string[]) =>
    (await session.rows<{ name: string }>(node, `SELECT name FROM system.tables WHERE database IN (${dbs.map((d) => `'${d}'`).join(', ')}) AND startsWith(name, '__kiln_')`)).map((r) => r.name);

  async function until(ready: () => Promise<boolean>, what: string, running: RunningKiln): Promise<void> {
    for (let i = 0; i < 4000; i++) {
      if (await ready()) return;
      if (running.child.exitCode !== null) throw new Error(`${what}: the run ended first:\n${running.output()}`);
      await pause(25);
    }
    throw new Error(`never: ${what}`);
  }

  it('a second kiln on a node of the other shard is refused while the first holds the lock (exit 2), or waits with --wait, and nothing loads twice', async () => {
    const db = 'locked';
    const dir = clusterProject(db, getCluster().name, FILES);
    const first = startKiln(dir, ['build'], { env: clusterEnv(session.cluster(), 0) });
    // The lock table is created ON CLUSTER: node 3 (shard 2) sees it too.
    await until(() => lockOn(3, db), 'the first run\'s lock, seen on node 3', first);
    first.child.kill('SIGSTOP');
    try {
      const second = await session.kiln(dir, ['build'], 3);
      expect(second.code, allOutput(second)).toBe(2);
      expect(second.stderr).toMatch(new RegExp(`target 'ch' is locked by .* pid ${first.child.pid} \\(kiln build, since`));
      const waiting = startKiln(dir, ['build', '--wait', '600'], { env: clusterEnv(session.cluster(), 2) });
      await waiting.waitFor(/is locked by .*; waiting up to 600 s/, { stream: 'output' });
      first.child.kill('SIGCONT');
      const [a, b] = [await first.done, await waiting.done];
      expect(a.code, allOutput(a)).toBe(0);
      expect(b.code, allOutput(b)).toBe(0);
    } finally {
      first.child.kill('SIGCONT');
    }
    for (const node of nodes()) {
      expect(await count(node.index, `SELECT count() AS n FROM ${db}_raw.ex__items`), `node ${node.index}`).toBe(ROWS);
      expect(await count(node.index, `SELECT count() AS n FROM ${db}.dim_items`), `node ${node.index}`).toBe(ROWS);
      expect(await lockOn(node.index, db), `node ${node.index}: the lock is released everywhere`).toBe(false);
    }
  });

  it('a table rebuild killed after each of its statements, then run again: the same rows and no scratch table on any node', async () => {
    const db = 'swept';
    const dir = clusterProject(db, getCluster().name, FILES);
    const first = await session.kiln(dir, ['build']);
    expect(first.code, allOutput(first)).toBe(0);
    const expected = await session.rows(0, `SELECT name, n FROM ${db}.name_counts ORDER BY name`);
    expect(expected).toHaveLength(97);

    // A kill after each statement is 21 points here (two kiln runs each, minutes on a loaded
    // machine): npm test kills after every third one, KILN_SWEEPS=all after each.
    const step = ALL_SWEEPS ? 1 : 3;
    let crashes = 0;
    for (let k = 1; k <= 60; k += step) {
      const crashed = await runKiln(dir, ['run', '--select', 'name_counts'], { env: { ...clusterEnv(session.cluster(), 1), KILN_CRASH_AFTER: String(k) } });
      if (crashed.code === 0) break; // fewer than k statements: every crash point is covered
      expect(String(crashed.signal ?? crashed.code), allOutput(crashed)).toMatch(/SIGKILL|137/);
      crashes++;
      const rerun = await session.kiln(dir, ['run', '--select', 'name_counts'], 2);
      expect(rerun.code, `after a crash at statement ${k}: ${allOutput(rerun)}`).toBe(0);
      for (const node of nodes()) {
        expect(await leftovers(node.index, [db, `${db}_raw`]), `crash at ${k}, node ${node.index}`).toEqual([]);
        expect(await session.rows(node.index, `SELECT name, n FROM ${db}.name_counts ORDER BY name`), `crash at ${k}, node ${node.index}`).toEqual(expected);
      }
    }
    expect(crashes).toBeGreaterThanOrEqual(3);
  });
});
