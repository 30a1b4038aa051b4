import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLUSTER_NAME, describeWithCluster } from '../harness/clickhouse-cluster.js';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { allOutput, runKiln, runResults, writeProject } from '../helpers/kiln-cli.js';
import { clusterEnv, clusterSession } from '../helpers/cluster-target.js';

/**
 * A source table with `sharding_key` on the harness cluster (2 shards × 2 replicas): its raw
 * table is `<table>_local` on every shard plus a Distributed `<table>`. What a user checks: both
 * shards hold rows, the replicas of a shard agree, the rows read through the Distributed table
 * equal a single-node stage of the same files (where the key is ignored with a note); staging
 * again adds nothing, a changed file replaces its rows once, models and tests downstream see every
 * row; a stage killed after any statement and run again leaves the same rows and no scratch table.
 */
const DB = 'shard';
const SINGLE = 'shard_single';
const RAW = `${DB}_raw`;

const target = (name: string, db: string, cluster: boolean) => `  ${name}:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: ${db}
    raw_database: ${db}_raw
${cluster ? `    cluster: ${CLUSTER_NAME}\n` : ''}`;

const PROJECT_YML = `name: shard\ntarget: ch\ntargets:\n${target('ch', DB, true)}${target('single', SINGLE, false)}`;

const SOURCES = `sources:
  - name: ev
    loader: csv
    tables:
      - name: events
        path: data/events_*.csv
        sharding_key: cityHash64(id)
        columns: [{ name: id, type: UInt64 }, { name: kind, type: String }, { name: amount, type: Int64 }]
      - name: kinds
        path: data/kinds.csv
  - name: shop
    loader: mysql
    dump: data/shop.sql
    tables:
      - name: orders
        sharding_key: intHash64(id)
`;

/** A mysqldump of one table, `orders`, with ids from..to. */
const shopDump = (from: number, to: number, factor: number) => `-- MySQL dump 10.13
DROP TABLE IF EXISTS \`orders\`;
CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL,
  \`sku\` varchar(20) DEFAULT NULL,
  \`qty\` int(11) NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

LOCK TABLES \`orders\` WRITE;
INSERT INTO \`orders\` VALUES ${Array.from({ length: to - from + 1 }, (_, i) => `(${from + i},'s${(from + i) % 9}',${(from + i) * factor})`).join(',')};
UNLOCK TABLES;
`;

const events = (from: number, to: number, factor: number, bad = false) =>
  `id,kind,amount\n${Array.from({ length: to - from + 1 }, (_, i) => `${from + i},k${(from + i) % 5},${(from + i) * factor}`).join('\n')}\n${bad ? 'oops,k1,notanumber\n' : ''}`;

const FILES = {
  'project.yml': PROJECT_YML,
  'sources.yml': SOURCES,
  'data/events_1.csv': events(1, 300, 2),
  'data/events_2.csv': events(301, 600, 3, true),
  'data/shop.sql': shopDump(1, 200, 1),
  'data/kinds.csv': 'kind,label\nk0,zero\nk1,one\nk2,two\nk3,three\nk4,four\n',
  'models/per_kind.sql': `{{ config(materialized='table', order_by='kind') }}
SELECT kind, any(label) AS label, count() AS n, sum(amount) AS total
FROM {{ source('ev', 'events') }} ANY LEFT JOIN {{ source('ev', 'kinds') }} USING kind
GROUP BY kind`,
  'models/all_events.sql': `{{ config(materialized='view') }}
SELECT id, kind, amount FROM {{ source('ev', 'events') }}`,
  'models/schema.yml': `models:
  - name: all_events
    columns:
      - name: id
        data_tests: [unique, not_null]
`,
};

const CHANGED_2 = events(301, 640, 7);

describeWithCluster('sharded raw tables (sharding_key per source table) on a 2 x 2 cluster', (getCluster) => {
  const session = clusterSession(getCluster);
  const dir = writeProject(FILES);
  const rawRows = (node: number, db: string, table: string) =>
    session.rows<Record<string, string>>(node, `SELECT id, kind, amount, _kiln_file, _kiln_line FROM ${db}.${table} ORDER BY id, _kiln_file, _kiln_line`);
  const count = async (node: number, sql: string) => Number((await session.rows<{ n: string }>(node, sql))[0]!.n);
  const quarantine = (node: number, db: string) =>
    session.rows(node, `SELECT source_name, table_name, file, line, raw, reason FROM ${db}._kiln_quarantine ORDER BY file, line`);
  const leftovers = async () => {
    const out: string[] = [];
    for (const node of session.cluster().nodes) {
      const rows = await session.rows<{ name: string }>(node.index, `SELECT database, name FROM system.tables WHERE database IN ('${DB}', '${RAW}') AND startsWith(name, '__kiln_')`);
      out.push(...rows.map((r) => `${node.index}:${r.name}`));
    }
    return out;
  };
  /** The sharded table as a user checks it: both shards hold rows, each shard's replicas agree, the Distributed table has them all. */
  const checkShards = async (expected: readonly Record<string, string>[]) => {
    const shard1 = await rawRows(0, RAW, 'ev__events_local');
    const shard2 = await rawRows(2, RAW, 'ev__events_local');
    expect(shard1.length, 'shard 1 holds rows').toBeGreaterThan(0);
    expect(shard2.length, 'shard 2 holds rows').toBeGreaterThan(0);
    expect(await rawRows(1, RAW, 'ev__events_local'), 'the replicas of shard 1 agree').toEqual(shard1);
    expect(await rawRows(3, RAW, 'ev__events_local'), 'the replicas of shard 2 agree').toEqual(shard2);
    expect(shard1.length + shard2.length).toBe(expected.length);
    for (const node of [0, 1, 2, 3]) expect(await rawRows(node, RAW, 'ev__events'), `through the Distributed table on node ${node}`).toEqual(expected);
  };
  /** The sharded mysql table (a dump, reloaded whole): the same checks against the single-node stage. */
  const checkOrders = async () => {
    const orders = (node: number, db: string, table: string) => session.rows(node, `SELECT id, sku, qty FROM ${db}.${table} ORDER BY id`);
    const expected = await orders(0, `${SINGLE}_raw`, 'shop__orders');
    expect(expected.length).toBeGreaterThan(0);
    const shard1 = await orders(0, RAW, 'shop__orders_local');
    const shard2 = await orders(2, RAW, 'shop__orders_local');
    expect(shard1.length * shard2.length, 'both shards hold orders').toBeGreaterThan(0);
    expect(await orders(1, RAW, 'shop__orders_local')).toEqual(shard1);
    expect(await orders(3, RAW, 'shop__orders_local')).toEqual(shard2);
    for (const node of [0, 3]) expect(await orders(node, RAW, 'shop__orders'), `orders through the Distributed table on node ${node}`).toEqual(expected);
    expect(await leftovers()).toEqual([]);
  };
  const kiln = (args: string[], node = 0, extra: Record<string, string> = {}) => session.kiln(dir, args, node, extra);

  it('stages the sharded source into both shards; its rows, rejects and models equal a single-node build; a rerun adds nothing; a changed file replaces its rows once', async () => {
    const single = await kiln(['build', '--target', 'single']);
    expect(single.code, allOutput(single)).toBe(0);
    expect(allOutput(single)).toContain("source ev.events: sharding_key ignored: target 'single' has no cluster");
    const built = await kiln(['build']);
    expect(built.code, allOutput(built)).toBe(0);
    expect(built.stderr.trim()).toBe('warning: sources.yml:5: ev.events: 1 record(s) rejected (see `kiln show --quarantine ev.events` (shard_raw._kiln_quarantine))');

    const engines = await session.rows<{ name: string; engine: string }>(3, `SELECT name, engine FROM system.tables WHERE database = '${RAW}' AND name LIKE 'ev\\_\\_%' ORDER BY name`);
    expect(engines).toEqual([
      { name: 'ev__events', engine: 'Distributed' },
      { name: 'ev__events_local', engine: 'ReplicatedMergeTree' },
      { name: 'ev__kinds', engine: 'ReplicatedMergeTree' },
    ]);
    const expected = await rawRows(0, `${SINGLE}_raw`, 'ev__events');
    expect(expected).toHaveLength(600);
    await checkShards(expected);
    expect(await quarantine(3, RAW)).toEqual(await quarantine(0, `${SINGLE}_raw`));
    expect(await quarantine(3, RAW)).toHaveLength(1);
    const perKind = `SELECT * FROM ${DB}.per_kind ORDER BY kind`;
    await checkOrders();
    expect(await session.rows(3, perKind)).toEqual(await session.rows(0, `SELECT * FROM ${SINGLE}.per_kind ORDER BY kind`));

    // Staging again (from a node of the other shard) finds every file loaded and adds nothing.
    const again = await kiln(['stage'], 2);
    expect(again.code, allOutput(again)).toBe(0);
    expect(again.stdout).toContain('ev.events: 2 file(s) (2 unchanged), 0 row(s) loaded');
    expect(again.stdout).toContain('shop.orders: 1 file(s) (1 unchanged), 0 row(s) loaded');
    await checkShards(expected);

    // A changed file replaces its rows once, on both shards.
    writeFileSync(join(dir, 'data/events_2.csv'), CHANGED_2);
    for (const [args, node] of [[['build', '--target', 'single'], 0], [['build'], 1]] as const) {
      const r = await kiln([...args], node);
      expect(r.code, allOutput(r)).toBe(0);
    }
    await checkOrders();
    writeFileSync(join(dir, 'data/shop.sql'), shopDump(50, 330, 5));
    for (const [args, node] of [[['stage', '--target', 'single'], 0], [['stage'], 3]] as const) {
      const r = await kiln([...args], node);
      expect(r.code, allOutput(r)).toBe(0);
    }
    await checkOrders();
    expect(await count(0, `SELECT count() AS n FROM ${RAW}.shop__orders`)).toBe(281);
    const changed = await rawRows(0, `${SINGLE}_raw`, 'ev__events');
    expect(changed).toHaveLength(640);
    await checkShards(changed);
    expect(await count(0, `SELECT count() AS n FROM ${RAW}.ev__events WHERE amount = id * 3`), 'no row of the file\'s old version').toBe(0);
    expect(await quarantine(0, RAW)).toEqual([]);
    // Models built right after staging see every row (the build's unique test on all_events passed too).
    expect(await session.rows(2, perKind)).toEqual(await session.rows(0, `SELECT * FROM ${SINGLE}.per_kind ORDER BY kind`));
    expect(await count(3, `SELECT count() AS n FROM ${DB}.all_events`)).toBe(640);
    expect(await leftovers()).toEqual([]);
  });

  it('a changed file staged with a kill after any statement, then staged again: every row once, on every shard, and no scratch table', { timeout: 900_000 }, async () => {
    // The file alternates between two versions, so each crash point starts from the other one staged.
    const versions = [events(301, 600, 3, true), CHANGED_2];
    const want: Record<string, string>[][] = [];
    const rejects: unknown[][] = [];
    for (const v of versions) {
      writeFileSync(join(dir, 'data/events_2.csv'), v);
      const r = await kiln(['stage', '--target', 'single']);
      expect(r.code, allOutput(r)).toBe(0);
      want.push(await rawRows(0, `${SINGLE}_raw`, 'ev__events'));
      rejects.push(await quarantine(0, `${SINGLE}_raw`));
    }
    expect(rejects.map((r) => r.length)).toEqual([1, 0]);
    // The cluster holds version 1 (CHANGED_2) from the test before; point k stages version k % 2.
    const stride = ALL_SWEEPS ? 1 : 4;
    let crashes = 0;
    let version = 1;
    for (let k = 1; k <= 200; k += stride) {
      version = 1 - version;
      writeFileSync(join(dir, 'data/events_2.csv'), versions[version]!);
      const crashed = await runKiln(dir, ['stage'], { env: { ...clusterEnv(session.cluster(), k % 4), KILN_CRASH_AFTER: String(k) } });
      if (crashed.code === 0) break; // fewer than k statements: every stride-th crash point is covered
      expect(String(crashed.signal ?? crashed.code), allOutput(crashed)).toMatch(/SIGKILL|137/);
      crashes++;
      const rerun = await kiln(['stage'], (k + 1) % 4);
      expect(rerun.code, `after a crash at statement ${k}: ${allOutput(rerun)}`).toBe(0);
      await checkShards(want[version]!);
      expect(await quarantine(3, RAW), `crash at ${k}`).toEqual(rejects[version]);
      expect(await leftovers(), `crash at ${k}`).toEqual([]);
    }
    console.log(`sharded stage sweep: ${crashes} crash points (stride ${stride})`);
    expect(crashes).toBeGreaterThanOrEqual(5);
  });

  it('a sharded mysql table whose reload is killed after any statement, then staged again: the new dump\'s rows once, on every shard, and no scratch table', { timeout: 900_000 }, async () => {
    const dumps = [shopDump(1, 120, 2), shopDump(60, 260, 4)];
    const want: unknown[][] = [];
    for (const v of dumps) {
      writeFileSync(join(dir, 'data/shop.sql'), v);
      const r = await kiln(['stage', '--target', 'single', '--select', 'source:shop.orders']);
      expect(r.code, allOutput(r)).toBe(0);
      want.push(await session.rows(0, `SELECT id, sku, qty FROM ${SINGLE}_raw.shop__orders ORDER BY id`));
    }
    const stride = ALL_SWEEPS ? 1 : 5;
    let crashes = 0;
    let version = 1;
    for (let k = 1; k <= 200; k += stride) {
      version = 1 - version;
      writeFileSync(join(dir, 'data/shop.sql'), dumps[version]!);
      const crashed = await runKiln(dir, ['stage', '--select', 'source:shop.orders'], { env: { ...clusterEnv(session.cluster(), k % 4), KILN_CRASH_AFTER: String(k) } });
      if (crashed.code === 0) break;
      expect(String(crashed.signal ?? crashed.code), allOutput(crashed)).toMatch(/SIGKILL|137/);
      crashes++;
      const rerun = await kiln(['stage', '--select', 'source:shop.orders'], (k + 2) % 4);
      expect(rerun.code, `after a crash at statement ${k}: ${allOutput(rerun)}`).toBe(0);
      for (const node of [0, 1, 2, 3]) {
        expect(await session.rows(node, `SELECT id, sku, qty FROM ${RAW}.shop__orders ORDER BY id`), `crash at ${k}, node ${node}`).toEqual(want[version]);
      }
      expect(await leftovers(), `crash at ${k}`).toEqual([]);
    }
    console.log(`sharded mysql reload sweep: ${crashes} crash points (stride ${stride})`);
    expect(crashes).toBeGreaterThanOrEqual(4);
  });

  it('a materialized_view model fed by a sharded source: its views see every file loaded through the Distributed table, on every node, a changed file rebuilds it, and a stage killed after any statement leaves it right', { timeout: 900_000 }, async () => {
    const mvDb = 'shard_mv';
    const mv = writeProject({
      ...FILES,
      'project.yml': PROJECT_YML.replaceAll(`${DB}`, mvDb),
      'models/kind_counts.sql': `{{ config(materialized='materialized_view', engine='SummingMergeTree()', order_by='kind') }}
SELECT kind, count() AS n, sum(amount) AS total FROM {{ source('ev', 'events') }} GROUP BY kind`,
      'models/sku_qty.sql': `{{ config(materialized='materialized_view', engine='SummingMergeTree()', order_by='sku_key') }}
SELECT ifNull(sku, '') AS sku_key, sum(qty) AS qty FROM {{ source('shop', 'orders') }} GROUP BY sku_key`,
    });
    const env = clusterEnv(session.cluster(), 0);
    /** The model's rows finalised, and what they must be: counted from the raw rows now. */
    const counts = (node: number) =>
      session.rows(node, `SELECT kind, toString(sum(n)) AS n, toString(sum(total)) AS total FROM ${mvDb}.kind_counts GROUP BY kind ORDER BY kind`);
    const expected = () =>
      session.rows(0, `SELECT kind, toString(count()) AS n, toString(sum(amount)) AS total FROM ${mvDb}_raw.ev__events GROUP BY kind ORDER BY kind`);
    const agree = async () => {
      const want = await expected();
      expect(want.length).toBe(5);
      for (const node of [0, 1, 2, 3]) expect(await counts(node), `kind_counts on node ${node}`).toEqual(want);
    };
    const built = await runKiln(mv, ['build'], { env });
    expect(built.code, allOutput(built)).toBe(0);
    await agree();

    // A new file: staged through the Distributed table, whose views add its rows; no rebuild.
    writeFileSync(join(mv, 'data/events_3.csv'), events(701, 760, 5));
    const added = await runKiln(mv, ['stage'], { env });
    expect(added.code, allOutput(added)).toBe(0);
    expect(allOutput(added)).not.toContain('kind_counts is rebuilt after the load');
    expect(runResults(mv).get(`model.${mvDb}.kind_counts`)?.message).toBe(`materialized view ${mvDb}.kind_counts: its views saw every load`);
    await agree();
    expect(await count(0, `SELECT toString(sum(n)) AS n FROM ${mvDb}.kind_counts`)).toBe(300 + 300 + 60);

    // A changed file: its old rows leave by DROP PARTITION, which views do not see, so staging rebuilds the model.
    writeFileSync(join(mv, 'data/events_3.csv'), events(701, 730, 9));
    const changed = await runKiln(mv, ['stage'], { env });
    expect(changed.code, allOutput(changed)).toBe(0);
    expect(allOutput(changed)).toContain('kind_counts is rebuilt after the load');
    await agree();
    expect(await count(0, `SELECT toString(sum(n)) AS n FROM ${mvDb}.kind_counts`)).toBe(300 + 300 + 30);
    // Staging again changes nothing.
    expect((await runKiln(mv, ['stage'], { env })).code).toBe(0);
    await agree();

    // A changed dump: the sharded orders are swapped in whole on every node, which fires no view,
    // so staging rebuilds the model fed by them.
    const skus = (node: number) => session.rows(node, `SELECT sku_key, toString(sum(qty)) AS qty FROM ${mvDb}.sku_qty GROUP BY sku_key ORDER BY sku_key`);
    const skusFromRaw = () => session.rows(0, `SELECT ifNull(sku, '') AS sku_key, toString(sum(qty)) AS qty FROM ${mvDb}_raw.shop__orders GROUP BY sku_key ORDER BY sku_key`);
    expect(await skus(3)).toEqual(await skusFromRaw());
    writeFileSync(join(mv, 'data/shop.sql'), shopDump(1, 260, 2));
    const reloaded = await runKiln(mv, ['stage'], { env });
    expect(reloaded.code, allOutput(reloaded)).toBe(0);
    expect(allOutput(reloaded)).toContain('sku_qty is rebuilt after the load');
    expect(await count(0, `SELECT toString(count()) AS n FROM ${mvDb}_raw.shop__orders`)).toBe(260);
    for (const node of [0, 3]) expect(await skus(node), `sku_qty on node ${node}`).toEqual(await skusFromRaw());

    // A new file staged with a kill after any statement, then staged again from another node: the
    // views added its rows once, or the model was rebuilt; either way the counts equal the raw rows.
    const stride = ALL_SWEEPS ? 1 : 4;
    let crashes = 0;
    let rows = 300 + 300 + 30;
    for (let k = 1; k <= 200; k += stride) {
      const first = 1000 + k * 10;
      writeFileSync(join(mv, `data/events_k${k}.csv`), events(first, first + 9, 1));
      rows += 10;
      const crashed = await runKiln(mv, ['stage'], { env: { ...clusterEnv(session.cluster(), k % 4), KILN_CRASH_AFTER: String(k) } });
      if (crashed.code === 0) break;
      expect(String(crashed.signal ?? crashed.code), allOutput(crashed)).toMatch(/SIGKILL|137/);
      crashes++;
      const rerun = await runKiln(mv, ['stage'], { env: clusterEnv(session.cluster(), (k + 1) % 4) });
      expect(rerun.code, `after a crash at statement ${k}: ${allOutput(rerun)}`).toBe(0);
      await agree();
      expect(await count(0, `SELECT toString(sum(n)) AS n FROM ${mvDb}.kind_counts`), `crash at ${k}`).toBe(rows);
    }
    console.log(`sharded stage feeding a materialized view, sweep: ${crashes} crash points (stride ${stride})`);
    expect(crashes).toBeGreaterThanOrEqual(4);
  });

  it('a sharded raw table whose sharding_key is removed is refused with a hint, and --full-refresh rebuilds it whole on every node', async () => {
    writeFileSync(join(dir, 'sources.yml'), SOURCES.replace('        sharding_key: cityHash64(id)\n', ''));
    const refused = await kiln(['stage']);
    expect(refused.code, allOutput(refused)).toBe(1);
    expect(allOutput(refused)).toContain(`\`${RAW}\`.\`ev__events\` is a Distributed table over shards, and the source is now not sharded`);
    expect(allOutput(refused)).toContain('kiln stage --full-refresh --select source:ev.events');
    const rebuilt = await kiln(['stage', '--full-refresh', '--select', 'source:ev.events']);
    expect(rebuilt.code, allOutput(rebuilt)).toBe(0);
    // The single-node target staged from the same files (the sweep left either version of events_2.csv).
    const single = await kiln(['stage', '--target', 'single', '--select', 'source:ev.events']);
    expect(single.code, allOutput(single)).toBe(0);
    const tables = await session.rows<{ name: string; engine: string }>(2, `SELECT name, engine FROM system.tables WHERE database = '${RAW}' AND name LIKE 'ev\\_\\_events%'`);
    expect(tables).toEqual([{ name: 'ev__events', engine: 'ReplicatedMergeTree' }]);
    for (const node of [0, 3]) expect(await count(node, `SELECT count() AS n FROM ${RAW}.ev__events`)).toBe(await count(0, `SELECT count() AS n FROM ${SINGLE}_raw.ev__events`));
  });
});
