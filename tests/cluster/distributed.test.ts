import { expect, it } from 'vitest';
import { Adapter } from '../../src/adapters/adapter.js';
import { CLUSTER_NAME, describeWithCluster } from '../harness/clickhouse-cluster.js';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { allOutput, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { clusterEnv, clusterSession } from '../helpers/cluster-target.js';

/**
 * distributed_table and distributed_incremental on the harness cluster (2 shards × 2 replicas):
 * what a user checks after a build — the rows through the Distributed table equal a single-node
 * build of the same model, each shard holds its share, the replicas of a shard agree, a rerun
 * changes nothing and leaves nothing behind.
 */
const DB = 'dist';
const SINGLE_DB = 'dist_single';

// One project, two targets: the cluster (distributed) and node 0 alone (the plain kinds), same SQL.
const files = {
  'project.yml': `name: dist
target: ch
targets:
  ch:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: ${DB}
    raw_database: ${DB}_raw
    cluster: ${CLUSTER_NAME}
  single:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: ${SINGLE_DB}
    raw_database: ${SINGLE_DB}_raw
`,
  'models/events.sql': `{{ config(materialized='distributed_table' if target.name == 'ch' else 'table', sharding_key='cityHash64(id)', order_by='id') }}
SELECT toUInt64(number) AS id, toString(number % 7) AS kind, number * 3 AS amount FROM numbers({{ var('n', 1000) }})`,
  'models/events_inc.sql': `{{ config(materialized='distributed_incremental' if target.name == 'ch' else 'incremental', sharding_key='id', order_by='id') }}
SELECT id, kind, amount FROM {{ ref('events') }}
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}`,
  // Partitions by day; an increment (factor set) recomputes days 1 and 2 only.
  'models/daily.sql': `{{ config(materialized='distributed_incremental' if target.name == 'ch' else 'incremental', incremental_strategy='insert_overwrite', partition_by='day', sharding_key='id', order_by='id') }}
SELECT id, toUInt8(id % 5) AS day, amount * {{ var('factor', 1) }} AS amount FROM {{ ref('events') }}
{% if is_incremental() %}WHERE id % 5 IN (1, 2){% endif %}`,
  // An enforced contract: the shards' table gets the contract's types; id's type comes from a var, to break it.
  'models/contracted.sql': `{{ config(materialized='distributed_table' if target.name == 'ch' else 'table', sharding_key='id', order_by='id') }}
SELECT {{ var('id_cast', 'toUInt64') }}(number) AS id, toString(number) AS label FROM numbers({{ var('m', 10) }})`,
  'models/contracted_inc.sql': `{{ config(materialized='distributed_incremental' if target.name == 'ch' else 'incremental', sharding_key='id', order_by='id') }}
SELECT {{ var('id_cast', 'toUInt64') }}(number) AS id, toString(number) AS label FROM numbers({{ var('m', 10) }})
{% if is_incremental() %}WHERE number >= (SELECT count() FROM {{ this }}){% endif %}`,
  'models/kinds.sql': `{{ config(materialized='table') }}
SELECT kind, count() AS n, sum(amount) AS total FROM {{ ref('events') }} GROUP BY kind`,
  'models/schema.yml': `models:
  - name: events
    columns:
      - name: id
        data_tests: [unique, not_null]
  - name: contracted
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: Nullable(UInt64)
        constraints: [{type: not_null}]
      - name: label
        data_type: String
  - name: contracted_inc
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: UInt64
      - name: label
        data_type: String
`,
};

describeWithCluster('distributed materializations on a 2 x 2 cluster', (getCluster) => {
  const session = clusterSession(getCluster);
  const dir = writeProject(files);
  const ids = async (node: number, sql: string) => (await session.rows<{ id: string }>(node, sql)).map((r) => Number(r.id));
  const table = async (node: number, relation: string) =>
    session.rows<Record<string, string>>(node, `SELECT * FROM ${relation} ORDER BY ${relation.includes('kinds') ? 'kind' : 'id'}`);
  const scratch = async () => {
    const out: string[] = [];
    for (const node of session.cluster().nodes) {
      const rows = await session.rows<{ name: string }>(node.index, `SELECT name FROM system.tables WHERE database = '${DB}' AND name LIKE '\\_\\_kiln%'`);
      out.push(...rows.map((r) => `${node.index}:${r.name}`));
    }
    return out;
  };

  it('builds <name>_local on every shard and a Distributed table whose rows equal a single-node build', async () => {
    const single = await session.kiln(dir, ['run', '--target', 'single']);
    expect(single.stderr).toBe('');
    expect(single.code).toBe(0);
    const built = await session.kiln(dir, ['build']);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    for (const name of ['events', 'events_inc', 'kinds']) {
      const expected = await table(0, `${SINGLE_DB}.${name}`);
      expect(expected.length).toBeGreaterThan(0);
      // Through the Distributed table (or the replicated table) on a node of each shard.
      expect(await table(0, `${DB}.${name}`)).toEqual(expected);
      expect(await table(3, `${DB}.${name}`)).toEqual(expected);
    }
  });

  it('each shard holds only its share, and the replicas of a shard hold the same rows', async () => {
    const shard1 = await ids(0, `SELECT id FROM ${DB}.events_local ORDER BY id`);
    const shard2 = await ids(2, `SELECT id FROM ${DB}.events_local ORDER BY id`);
    expect(shard1.length).toBeGreaterThan(0);
    expect(shard2.length).toBeGreaterThan(0);
    expect(shard1.length + shard2.length).toBe(1000);
    expect(shard1.filter((id) => shard2.includes(id))).toEqual([]);
    expect(await ids(1, `SELECT id FROM ${DB}.events_local ORDER BY id`)).toEqual(shard1);
    expect(await ids(3, `SELECT id FROM ${DB}.events_local ORDER BY id`)).toEqual(shard2);
    const engines = await session.rows<{ name: string; engine: string }>(0, `SELECT name, engine FROM system.tables WHERE database = '${DB}' AND name LIKE 'events%' ORDER BY name`);
    expect(engines).toEqual([
      { name: 'events', engine: 'Distributed' },
      { name: 'events_inc', engine: 'Distributed' },
      { name: 'events_inc_local', engine: 'ReplicatedMergeTree' },
      { name: 'events_local', engine: 'ReplicatedMergeTree' },
    ]);
  });

  it('a rerun is idempotent and leaves no scratch table on any node', async () => {
    const rerun = await session.kiln(dir, ['run']);
    expect(rerun.code).toBe(0);
    expect(await ids(1, `SELECT count() AS id FROM ${DB}.events`)).toEqual([1000]);
    expect(await ids(2, `SELECT count() AS id FROM ${DB}.events_inc`)).toEqual([1000]);
    expect(await scratch()).toEqual([]);
  });

  it('distributed_incremental with insert_overwrite replaces the partitions the new rows touch, on every shard, as a single node does', async () => {
    for (const target of ['ch', 'single']) {
      const r = await session.kiln(dir, ['run', '--select', 'daily', '--target', target, '--vars', '{factor: 10}']);
      expect(r.code, allOutput(r)).toBe(0);
    }
    const byDay = (relation: string) => `SELECT day, count() AS n, sum(amount) AS total FROM ${relation} GROUP BY day ORDER BY day`;
    const expected = await session.rows(0, byDay(`${SINGLE_DB}.daily`));
    expect(expected).toHaveLength(5);
    expect(await session.rows(0, byDay(`${DB}.daily`))).toEqual(expected);
    expect(await session.rows(3, byDay(`${DB}.daily`))).toEqual(expected);
    // Days 1 and 2 were replaced (amounts × 10), days 0, 3 and 4 kept; each id once.
    const totals = Object.fromEntries((expected as Array<{ day: number; total: string }>).map((r) => [r.day, Number(r.total)]));
    const base = (day: number) => Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 5 === day).reduce((a, i) => a + i * 3, 0);
    expect(totals).toEqual({ 0: base(0), 1: base(1) * 10, 2: base(2) * 10, 3: base(3), 4: base(4) });
    expect(await ids(2, `SELECT uniqExact(id) AS id FROM ${DB}.daily`)).toEqual([1000]);
    expect(await ids(1, `SELECT id FROM ${DB}.daily_local ORDER BY id`)).toEqual(await ids(0, `SELECT id FROM ${DB}.daily_local ORDER BY id`));
    expect(await scratch()).toEqual([]);
  });

  it("an enforced contract gives the shards' table its types; a mismatch fails before anything is written (exit 1, the column diff)", async () => {
    const types = (node: number, table: string) => session.rows<{ name: string; type: string }>(node, `SELECT name, type FROM system.columns WHERE database = '${DB}' AND table = '${table}'`);
    const contract = [{ name: 'id', type: 'UInt64' }, { name: 'label', type: 'String' }];
    expect(await types(0, 'contracted_local')).toEqual(contract);
    expect(await types(3, 'contracted_local')).toEqual(contract);
    expect(await types(3, 'contracted')).toEqual(contract);
    const broken = await session.kiln(dir, ['run', '--select', 'contracted', '--vars', '{id_cast: toUInt32, m: 20}']);
    expect(broken.code, allOutput(broken)).toBe(1);
    expect(broken.stderr).toContain("'id' is UInt32 in the model's SELECT, the contract says UInt64");
    expect(broken.stderr).toContain('models/contracted.sql');
    // The old build stands, on every shard, and nothing was left behind.
    expect(await ids(1, `SELECT count() AS id FROM ${DB}.contracted`)).toEqual([10]);
    expect(await scratch()).toEqual([]);
    // distributed_incremental: the same before an increment; a matching one then adds its rows.
    expect(await types(2, 'contracted_inc_local')).toEqual(contract);
    const brokenIncrement = await session.kiln(dir, ['run', '--select', 'contracted_inc', '--vars', '{id_cast: toUInt32, m: 20}']);
    expect(brokenIncrement.code, allOutput(brokenIncrement)).toBe(1);
    expect(brokenIncrement.stderr).toContain("'id' is UInt32 in the model's SELECT, the contract says UInt64");
    expect(await ids(3, `SELECT count() AS id FROM ${DB}.contracted_inc`)).toEqual([10]);
    const increment = await session.kiln(dir, ['run', '--select', 'contracted_inc', '--vars', '{m: 20}']);
    expect(increment.code, allOutput(increment)).toBe(0);
    expect(await ids(3, `SELECT uniqExact(id) AS id FROM ${DB}.contracted_inc`)).toEqual([20]);
    expect(await types(1, 'contracted_inc_local')).toEqual(contract);
    expect(await scratch()).toEqual([]);
  });

  it("staging's local inserts carry the target's read-your-writes settings: a quorum insert on every replica", async () => {
    const cluster = session.cluster();
    const zk = (table: string) => `/clickhouse/tests/${DB}/${table}`;
    for (const table of ['quorum_probe', 'quorum_control']) {
      await session.command(0, `CREATE TABLE ${DB}.${table} ON CLUSTER ${CLUSTER_NAME} (id UInt32) ENGINE = ReplicatedMergeTree('${zk(table)}', '{shard}-{replica}') ORDER BY id`);
    }
    const adapter = await Adapter.connect({ name: 'ch', engine: 'clickhouse', url: cluster.nodes[0].url, username: cluster.username, password: cluster.password, database: DB, raw_database: `${DB}_raw`, cluster: CLUSTER_NAME });
    try {
      await adapter.insertLocalSelect({ database: DB, name: 'quorum_probe' }, ['id'], 'SELECT toUInt32(number) AS id FROM numbers(10)');
    } finally {
      await adapter.close();
    }
    await session.command(0, `INSERT INTO ${DB}.quorum_control SELECT toUInt32(number) FROM numbers(10)`);
    // ZooKeeper records the last part written with a quorum; a plain insert leaves it empty.
    const lastQuorumPart = async (table: string) => (await session.rows<{ value: string }>(0, `SELECT value FROM system.zookeeper WHERE path = '${zk(table)}/quorum' AND name = 'last_part'`))[0]?.value;
    expect(await lastQuorumPart('quorum_control')).toBe('');
    expect(await lastQuorumPart('quorum_probe')).not.toBe('');
    for (const node of cluster.nodes) expect(await ids(node.index, `SELECT count() AS id FROM ${DB}.quorum_probe`), `node ${node.index}`).toEqual([10]);
  });

  it('distributed_incremental appends the new rows once', async () => {
    const more = await session.kiln(dir, ['run', '--vars', '{n: 1500}']);
    expect(more.code).toBe(0);
    expect(await ids(0, `SELECT count() AS id FROM ${DB}.events_inc`)).toEqual([1500]);
    const again = await session.kiln(dir, ['run', '--vars', '{n: 1500}', '--select', 'events_inc']);
    expect(again.code).toBe(0);
    expect(await ids(3, `SELECT count() AS id FROM ${DB}.events_inc`)).toEqual([1500]);
    expect(await ids(1, `SELECT uniqExact(id) AS id FROM ${DB}.events_inc`)).toEqual([1500]);
    const shard1 = await ids(0, `SELECT id FROM ${DB}.events_inc_local ORDER BY id`);
    expect(await ids(1, `SELECT id FROM ${DB}.events_inc_local ORDER BY id`)).toEqual(shard1);
    expect(await scratch()).toEqual([]);
  });

  it('an increment killed after its statements, then run again, adds every row exactly once and leaves nothing on any node', async () => {
    // Every fourth statement (each with KILN_SWEEPS=all): each point is two kiln runs on the cluster.
    const step = ALL_SWEEPS ? 1 : 4;
    let crashes = 0;
    let n = 1500;
    for (let k = 1; k <= 80; k += step) {
      n += 100;
      // Validation's statements touch only its shadow database; they are swept elsewhere.
      const args = ['run', '--no-validate', '--select', 'events_inc', '--vars', `{n: ${n}}`];
      // events grows first (untouched by the sweep), so the increment has 100 new rows each time.
      expect((await session.kiln(dir, ['run', '--select', 'events', '--vars', `{n: ${n}}`])).code).toBe(0);
      const crashed = await runKiln(dir, args, { env: { ...clusterEnv(session.cluster(), 1), KILN_CRASH_AFTER: String(k) } });
      if (crashed.code === 0) break; // fewer than k statements: every crash point is covered
      expect(String(crashed.signal ?? crashed.code), allOutput(crashed)).toMatch(/SIGKILL|137/);
      crashes++;
      const rerun = await session.kiln(dir, args, 2);
      expect(rerun.code, `after a crash at statement ${k}: ${allOutput(rerun)}`).toBe(0);
      for (const node of session.cluster().nodes) {
        expect(await ids(node.index, `SELECT count() AS id FROM ${DB}.events_inc`), `crash at ${k}, node ${node.index}`).toEqual([n]);
      }
      expect(await ids(0, `SELECT uniqExact(id) AS id FROM ${DB}.events_inc`), `crash at ${k}`).toEqual([n]);
      expect(await scratch(), `crash at ${k}`).toEqual([]);
    }
    console.log(`distributed_incremental on the cluster: ${crashes} crash points (every ${step})`);
    expect(crashes).toBeGreaterThanOrEqual(3);
  });
});
