import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectYml, readJson, removeProjects, runKiln, runResults, writeProject, type KilnResult } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** `kiln run`/`build` on the embedded engine with every materialization and model config of DESIGN. */
afterAll(removeProjects);

const FILES = {
  'project.yml': projectYml(
    'shop',
    `vars: { min_amount: 5 }
models:
  marts: { +materialized: table, +tags: [mart] }
`,
  ),
  'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\n',
  'seeds/seeds.yml': 'seeds:\n  - name: countries\n    config: { column_types: { code: FixedString(2) }, order_by: code }\n',
  'models/staging/stg_orders.sql': `SELECT toUInt32(number + 1) AS order_id,
  if(number % 2 = 0, 'FR', 'DE') AS country,
  toFloat64(number * 2) AS amount,
  toDate('2030-01-01') + number AS order_date
FROM numbers(10)`,
  'models/staging/big_orders.sql': "{{ config(materialized='ephemeral') }}SELECT * FROM {{ ref('stg_orders') }} WHERE amount > {{ var('min_amount') }}",
  'models/marts/fct_orders.sql': `{{ config(
    engine='ReplacingMergeTree()',
    order_by=['order_id', 'country'],
    partition_by='toYYYYMM(order_date)',
    primary_key='order_id',
    settings={'index_granularity': 1024},
    ttl='order_date + INTERVAL 100 YEAR',
    tags=['finance'],
    pre_hook="CREATE TABLE IF NOT EXISTS analytics.hook_log (what String, n UInt64) ENGINE = MergeTree ORDER BY tuple()",
    post_hook=["INSERT INTO analytics.hook_log SELECT 'post', count() FROM {{ this }}"]
) }}
SELECT o.order_id, o.country, c.name AS country_name, o.amount, o.order_date
FROM {{ ref('big_orders') }} AS o
JOIN {{ ref('countries') }} AS c ON c.code = o.country`,
  'models/marts/report.sql': "{{ config(database='reporting', alias='orders_by_country', materialized='view') }}SELECT country, count() AS n FROM {{ ref('fct_orders') }} GROUP BY country",
  'models/marts/mem.sql': "{{ config(engine='Memory') }}SELECT 1 AS x",
  'models/old.sql': "{{ config(enabled=false) }}SELECT broken syntax here",
};

describe('kiln build with every config', () => {
  let dir: string;
  let wh: string;
  let build: KilnResult;
  beforeAll(async () => {
    dir = writeProject(FILES);
    wh = join(dir, '.kiln/dev');
    build = await runKiln(dir, ['build', '--threads', '1']);
  });

  it('succeeds with one line per executed node, in DAG order', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    const lines = build.stdout.split('\n').filter((l) => / of 5 /.test(l));
    const labels = lines.map((l) => l.replace(/ \.+.*$/, '').replace(/^\d+ of 5 OK +/, ''));
    expect([...labels].sort()).toEqual([
      'seed file analytics.countries',
      'table model analytics.fct_orders',
      'table model analytics.mem',
      'view model analytics.stg_orders',
      'view model reporting.orders_by_country',
    ]);
    const at = (label: string) => labels.indexOf(label);
    // dependencies first (with --threads 1 the output order is the execution order)
    expect(at('seed file analytics.countries')).toBeLessThan(at('table model analytics.fct_orders'));
    expect(at('view model analytics.stg_orders')).toBeLessThan(at('table model analytics.fct_orders'));
    expect(at('table model analytics.fct_orders')).toBeLessThan(at('view model reporting.orders_by_country'));
    expect(lines.map((l) => l.split(' of ')[0])).toEqual(['1', '2', '3', '4', '5']);
    expect(lines[at('table model analytics.fct_orders')]).toMatch(/\[7 rows, \d+\.\d\ds\]$/);
  });

  it('writes run_results.json with dbt field names', () => {
    const doc = readJson(dir, 'target/run_results.json');
    expect(doc.args).toMatchObject({ which: 'build', target: 'dev', threads: 1 });
    const results = runResults(dir);
    expect([...results.keys()].sort()).toEqual(['model.shop.fct_orders', 'model.shop.mem', 'model.shop.report', 'model.shop.stg_orders', 'seed.shop.countries']);
    expect(results.get('model.shop.fct_orders')).toMatchObject({ status: 'success', rows_affected: 7, message: 'created table analytics.fct_orders' });
    expect(results.get('seed.shop.countries')).toMatchObject({ status: 'success', rows_affected: 2 });
    expect(doc.results.every((r: { thread_id: string }) => r.thread_id === 'Thread-1')).toBe(true);
  });

  it('table configs reach ClickHouse: engine, order_by, partition_by, primary_key, settings, ttl', async () => {
    const [t] = await queryWarehouse<Record<string, string>>(
      wh,
      "SELECT engine, sorting_key, partition_key, primary_key, engine_full FROM system.tables WHERE database = 'analytics' AND name = 'fct_orders'",
    );
    expect(t).toMatchObject({ engine: 'ReplacingMergeTree', sorting_key: 'order_id, country', partition_key: 'toYYYYMM(order_date)', primary_key: 'order_id' });
    expect(t!.engine_full).toContain('TTL order_date + toIntervalYear(100)');
    expect(t!.engine_full).toContain('index_granularity = 1024');
    const [mem] = await queryWarehouse<{ engine: string }>(wh, "SELECT engine FROM system.tables WHERE database = 'analytics' AND name = 'mem'");
    expect(mem).toEqual({ engine: 'Memory' });
  });

  it('the ephemeral model is inlined (never created) and filters with the var', async () => {
    const rows = await queryWarehouse<{ order_id: number; country_name: string }>(wh, 'SELECT order_id, country_name FROM analytics.fct_orders ORDER BY order_id');
    expect(rows.map((r) => r.order_id)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(rows[0]!.country_name).toBe('Germany');
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.shop.fct_orders'].compiled_code).toContain('WITH `__kiln_cte__big_orders` AS (');
    const names = await queryWarehouse<{ name: string }>(wh, "SELECT name FROM system.tables WHERE database = 'analytics' ORDER BY name");
    expect(names.map((r) => r.name)).toEqual(['countries', 'fct_orders', 'hook_log', 'mem', 'stg_orders']);
  });

  it('database and alias place a model elsewhere; views are views', async () => {
    const [v] = await queryWarehouse<{ engine: string }>(wh, "SELECT engine FROM system.tables WHERE database = 'reporting' AND name = 'orders_by_country'");
    expect(v).toEqual({ engine: 'View' });
    const rows = await queryWarehouse(wh, 'SELECT country, toString(n) AS n FROM reporting.orders_by_country ORDER BY country');
    expect(rows).toEqual([{ country: 'DE', n: '4' }, { country: 'FR', n: '3' }]);
    expect(readJson(dir, 'target/manifest.json').nodes['model.shop.report'].relation_name).toBe('`reporting`.`orders_by_country`');
  });

  it('seed column_types and order_by apply', async () => {
    const cols = await queryWarehouse(wh, "SELECT name, type FROM system.columns WHERE database = 'analytics' AND table = 'countries'");
    expect(cols).toEqual([{ name: 'code', type: 'FixedString(2)' }, { name: 'name', type: 'String' }]);
  });

  it('pre_hook runs before and post_hook after the model, with {{ this }} resolved', async () => {
    const rows = await queryWarehouse(wh, 'SELECT what, toString(n) AS n FROM analytics.hook_log');
    expect(rows).toEqual([{ what: 'post', n: '7' }]);
  });

  it('disabled models are neither compiled nor run; tags select', async () => {
    expect(readJson(dir, 'target/manifest.json').nodes['model.shop.old']).toBeUndefined();
    const ls = await runKiln(dir, ['ls', '--select', 'tag:finance']);
    expect(ls.stdout).toBe('fct_orders\n');
    const mart = await runKiln(dir, ['ls', '--select', 'tag:mart', '--resource-type', 'model']);
    expect(mart.stdout).toBe('mem\nfct_orders\nreport\n');
  });

  it('a second run rebuilds in place; hooks run again', async () => {
    const r = await runKiln(dir, ['run', '--select', 'fct_orders', '--threads', '2']);
    expect(r.code).toBe(0);
    expect(readJson(dir, 'target/run_results.json').args.threads).toBe(2);
    const rows = await queryWarehouse(wh, 'SELECT what, toString(n) AS n FROM analytics.hook_log ORDER BY what');
    expect(rows).toEqual([{ what: 'post', n: '7' }, { what: 'post', n: '7' }]);
  });
});
