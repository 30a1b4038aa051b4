import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithCluster } from '../harness/clickhouse-cluster.js';
import { clusterProject, clusterSession } from '../helpers/cluster-target.js';
import { allOutput, projectYml, REPO_ROOT, removeProjects, runKiln, runResults, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * kiln on a 2 shards x 2 replicas cluster (issue 14): a project with a CSV source, a seed, views,
 * tables, an incremental and data tests builds ON CLUSTER with Replicated tables, and every
 * relation read on EACH node holds the rows a single-node (embedded) build of the same project holds.
 */

afterAll(removeProjects);

const ORDERS_1 = 'order_id,customer,country,amount\n1,ann,FR,10\n2,bob,DE,25\n3,ann,FR,7\n';
const ORDERS_2 = 'order_id,customer,country,amount\n4,cid,IT,40\n5,bob,DE,5\n';

const FILES: ProjectFiles = {
  'sources.yml': `sources:
  - name: shop
    loader: csv
    tables:
      - name: orders
        path: data/orders/*.csv
        columns: [{ name: order_id, type: UInt32 }, { name: customer, type: String }, { name: country, type: String }, { name: amount, type: UInt32 }]
`,
  'data/orders/2024-01.csv': ORDERS_1,
  'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\nIT,Italy\n',
  'models/stg_orders.sql': "SELECT order_id, customer, country, amount FROM {{ source('shop', 'orders') }}",
  'models/orders_by_country.sql':
    "{{ config(materialized='table', order_by='code') }}\nSELECT c.code AS code, c.name AS name, count() AS orders, sum(o.amount) AS amount\nFROM {{ ref('stg_orders') }} AS o INNER JOIN {{ ref('countries') }} AS c ON o.country = c.code\nGROUP BY c.code, c.name",
  'models/big_countries.sql': "SELECT code, amount FROM {{ ref('orders_by_country') }} WHERE amount > 20",
  'models/order_log.sql':
    "{{ config(materialized='incremental', order_by='order_id') }}\nSELECT order_id, customer, amount FROM {{ ref('stg_orders') }}\n{% if is_incremental() %}WHERE order_id > (SELECT max(order_id) FROM {{ this }}){% endif %}",
  // delete_insert: a customer's row is replaced when they order again (bob in the second file).
  'models/customer_last_order.sql':
    "{{ config(materialized='incremental', incremental_strategy='delete_insert', unique_key='customer', order_by='customer') }}\nSELECT customer, max(order_id) AS last_order, count() AS orders FROM {{ ref('stg_orders') }}\n{% if is_incremental() %}WHERE customer IN (SELECT customer FROM {{ ref('stg_orders') }} WHERE order_id > (SELECT max(last_order) FROM {{ this }})){% endif %}\nGROUP BY customer",
  'models/customer_totals.sql':
    "{{ config(materialized='table', order_by='customer') }}\nSELECT customer, sum(amount) AS total FROM {{ ref('order_log') }} GROUP BY customer",
  'models/schema.yml': `models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: country
        data_tests:
          - relationships: { to: "ref('countries')", field: code }
  - name: customer_totals
    columns:
      - name: customer
        data_tests: [unique]
`,
};

/** Each relation the build leaves, with an ORDER BY that makes its rows comparable. */
const RELATIONS: ReadonlyArray<readonly [string, string]> = [
  ['countries', 'code'],
  ['stg_orders', 'order_id'],
  ['orders_by_country', 'code'],
  ['big_countries', 'code'],
  ['order_log', 'order_id'],
  ['customer_last_order', 'customer'],
  ['customer_totals', 'customer'],
];

const notPassed = (dir: string) =>
  [...runResults(dir).values()].filter((r) => r.status !== 'success' && r.status !== 'pass').map((r) => `${r.unique_id}: ${r.status} ${r.message ?? ''}`);

/** Rows as JSON text with numbers as strings, so the embedded engine's and the server's JSON compare equal. */
const canonical = (rows: readonly Record<string, unknown>[]) => rows.map((row) => JSON.stringify(Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)]))));

describeWithCluster('kiln build on a cluster (2 shards x 2 replicas, Replicated tables ON CLUSTER)', (getCluster) => {
  const session = clusterSession(getCluster);
  const database = 'shop';
  let dir: string;
  let single: string;

  async function expectEveryNodeEqualsSingleNode(): Promise<void> {
    for (const [name, orderBy] of RELATIONS) {
      const expected = canonical(await queryWarehouse(join(single, '.kiln/dev'), `SELECT * FROM analytics.${name} ORDER BY ${orderBy}`));
      expect(expected.length, name).toBeGreaterThan(0);
      for (const node of session.cluster().nodes) {
        const rows = canonical(await session.rows(node.index, `SELECT * FROM ${database}.${name} ORDER BY ${orderBy}`));
        expect(rows, `${name} on node ${node.index} (shard ${node.shard})`).toEqual(expected);
      }
    }
  }

  it('a cluster the server does not know: exit 2 before anything runs, naming the clusters it knows', async () => {
    const wrong = clusterProject('nowhere', 'kiln_clustr', FILES);
    const r = await session.kiln(wrong, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toContain("target 'ch': the server has no cluster 'kiln_clustr'");
    expect(r.stderr).toMatch(/hint: clusters in its remote_servers: .*kiln_cluster/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    for (const node of session.cluster().nodes) {
      expect(await session.rows(node.index, "SELECT name FROM system.databases WHERE name LIKE 'nowhere%'")).toEqual([]);
    }
  });

  it('builds every node of a project, each node holding the single-node build\'s rows, tables Replicated', async () => {
    dir = clusterProject(database, getCluster().name, FILES);
    single = writeProject({ 'project.yml': projectYml('clu'), ...FILES });
    const build = await session.kiln(dir, ['build']);
    expect(build.code, allOutput(build)).toBe(0);
    expect(notPassed(dir)).toEqual([]);
    const local = await runKiln(single, ['build']);
    expect(local.code, allOutput(local)).toBe(0);
    await expectEveryNodeEqualsSingleNode();

    // What kiln created, on every node: Replicated engines, no scratch relation left.
    for (const node of session.cluster().nodes) {
      const tables = await session.rows<{ database: string; name: string; engine: string }>(
        node.index,
        `SELECT database, name, engine FROM system.tables WHERE database IN ('${database}', '${database}_raw') ORDER BY database, name`,
      );
      expect(tables.filter((t) => /__kiln_/.test(t.name)), `node ${node.index}`).toEqual([]);
      const engines = Object.fromEntries(tables.map((t) => [`${t.database}.${t.name}`, t.engine]));
      expect(engines, `node ${node.index}`).toMatchObject({
        [`${database}.countries`]: 'ReplicatedMergeTree',
        [`${database}.stg_orders`]: 'View',
        [`${database}.orders_by_country`]: 'ReplicatedMergeTree',
        [`${database}.order_log`]: 'ReplicatedMergeTree',
        [`${database}_raw.shop__orders`]: 'ReplicatedMergeTree',
        [`${database}_raw._kiln_ledger`]: 'ReplicatedMergeTree',
        [`${database}_raw._kiln_quarantine`]: 'ReplicatedMergeTree',
      });
    }
  });

  it('a new file and a rebuild from another node: incremental appends, tables rebuilt, every node equal, no duplicates', async () => {
    for (const d of [dir, single]) writeFileSync(join(d, 'data/orders/2024-02.csv'), ORDERS_2);
    // kiln on node 3 (shard 2) sees the ledger node 0 wrote: the first file is not loaded again.
    const build = await session.kiln(dir, ['build'], 3);
    expect(build.code, allOutput(build)).toBe(0);
    expect(notPassed(dir)).toEqual([]);
    const local = await runKiln(single, ['build']);
    expect(local.code, allOutput(local)).toBe(0);
    await expectEveryNodeEqualsSingleNode();
    for (const node of session.cluster().nodes) {
      const [raw] = await session.rows<{ n: string }>(node.index, `SELECT count() AS n FROM ${database}_raw.shop__orders`);
      expect(raw.n, `node ${node.index}`).toBe('5');
    }

    // A rerun with nothing new changes nothing on any node.
    const again = await session.kiln(dir, ['build'], 1);
    expect(again.code, allOutput(again)).toBe(0);
    await expectEveryNodeEqualsSingleNode();
  });

  it('builds the reference project (its MySQL app database from the dump), every node holding the embedded build\'s rows', async () => {
    const copy = (): string => {
      const d = writeProject({}, 'kiln-reference-');
      for (const entry of ['project.yml', 'sources.yml', 'models', 'macros', 'seeds', 'snapshots', 'tests/data', 'data']) {
        cpSync(join(REPO_ROOT, entry), join(d, entry), { recursive: true });
      }
      return d;
    };
    const ref = copy();
    const yml = readFileSync(join(ref, 'project.yml'), 'utf8');
    // The reference project's prod target, pointed at the cluster.
    const rawTarget = `raw_database: "{{ env_var('CLICKHOUSE_RAW_DATABASE', 'raw') }}" }`;
    writeFileSync(join(ref, 'project.yml'), yml.replace(rawTarget, `${rawTarget.slice(0, -2)}, cluster: ${getCluster().name} }`));
    expect(readFileSync(join(ref, 'project.yml'), 'utf8')).toContain(`cluster: ${getCluster().name} }`);
    const env = { CLICKHOUSE_URL: session.cluster().nodes[0].url, CLICKHOUSE_USER: session.cluster().username, CLICKHOUSE_PASSWORD: session.cluster().password, CLICKHOUSE_DATABASE: 'movies', CLICKHOUSE_RAW_DATABASE: 'movies_raw', MYSQL_HOST: '' };
    const build = await runKiln(ref, ['build', '--target', 'prod'], { env });
    expect(build.code, allOutput(build)).toBe(0);
    expect(notPassed(ref)).toEqual([]);
    const embedded = copy();
    const local = await runKiln(embedded, ['build'], { env: { MYSQL_HOST: '' } });
    expect(local.code, allOutput(local)).toBe(0);

    // fact_content_metrics_daily and its views hold -State rows per insert until ClickHouse merges
    // them, so their row counts depend on merges: their rows are compared finalised, through
    // content_metrics_daily (counted) and the dashboard (compared row by row).
    const names = (await queryWarehouse<{ name: string }>(join(embedded, '.kiln/dev'), "SELECT name FROM system.tables WHERE database = 'analytics' ORDER BY name"))
      .map((r) => r.name)
      .filter((name) => !name.startsWith('fact_content_metrics_daily'));
    expect(names).toEqual(expect.arrayContaining(['dim_content', 'fact_reviews', 'fact_events', 'dash_top_content', 'content_metrics_daily']));
    const counts = (db: string) => names.map((n) => `SELECT '${n}' AS name, toString(count()) AS n FROM ${db}.\`${n}\``).join(' UNION ALL ');
    const byName = (rows: readonly Record<string, unknown>[]) => Object.fromEntries(rows.map((r) => [String(r.name), String(r.n)]));
    const expected = byName(await queryWarehouse(join(embedded, '.kiln/dev'), counts('analytics')));
    const dashboard = 'SELECT metric, label, toString(value) AS value FROM {db}.dash_overview ORDER BY metric, label';
    const expectedDashboard = await queryWarehouse(join(embedded, '.kiln/dev'), dashboard.replace('{db}', 'analytics'));
    for (const node of session.cluster().nodes) {
      expect(byName(await session.rows(node.index, counts('movies'))), `node ${node.index}`).toEqual(expected);
      expect(await session.rows(node.index, dashboard.replace('{db}', 'movies')), `node ${node.index}`).toEqual(expectedDashboard);
    }
  });
});
