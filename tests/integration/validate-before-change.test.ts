import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, projectYml, removeProjects, runKiln, STACK_FRAME, writeFiles, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Validation before any change (issue 16) through the real CLI on the embedded engine: every
 * selected model, seed, data test and hook is checked on the target before the first statement
 * that changes anything; all errors come at once, on the model's own line, exit 2; the warehouse
 * is exactly as it was (on a first build: empty, no source staged).
 */
afterAll(removeProjects);

const SHOP: ProjectFiles = {
  'project.yml': projectYml('shop', 'test-paths: [tests]\n'),
  'data/orders.csv': 'id,customer,amount\n1,ann,10\n2,bob,20\n',
  'seeds/regions.csv': 'code,name\nEU,Europe\nUS,America\n',
  'sources.yml': `sources:
  - name: shop
    loader: csv
    tables:
      - name: orders
        path: data/orders.csv
`,
  'models/stg_orders.sql': `SELECT
    toUInt32(id) AS order_id,
    customer,
    toFloat64(amount) AS amount
FROM {{ source('shop', 'orders') }}
`,
  'models/customers.sql': `{{ config(materialized='table', order_by='customer') }}
SELECT customer, sum(amount) AS total
FROM {{ ref('stg_orders') }}
GROUP BY customer
`,
  'models/schema.yml': `models:
  - name: customers
    columns:
      - name: customer
        data_tests: [unique, not_null]
`,
};

/** Databases and tables of the embedded warehouse (system ones aside): what "nothing changed" is checked against. */
async function warehouseContents(dir: string): Promise<string[]> {
  const rows = await queryWarehouse<{ d: string; t: string }>(
    join(dir, '.kiln/dev'),
    "SELECT d.name AS d, t.name AS t FROM system.databases AS d LEFT JOIN system.tables AS t ON t.database = d.name WHERE d.name NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema', 'default') ORDER BY d, t SETTINGS join_use_nulls = 0",
  );
  return rows.map((r) => (r.t ? `${r.d}.${r.t}` : r.d));
}

describe('validation before any change (embedded)', () => {
  it('a good project: build validates first, then builds; the shadow database is gone', async () => {
    const dir = writeProject(SHOP);
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stdout).toMatch(/^Validated 5 nodes on target 'dev' in [\d.]+s$/m);
    const contents = await warehouseContents(dir);
    expect(contents).toContain('analytics.customers');
    expect(contents.filter((c) => c.startsWith('_kiln_validate_'))).toEqual([]);
  });

  it('a first build with errors in several models and a test: all reported at once on their own lines, exit 2, nothing staged or created', async () => {
    const dir = writeProject({
      ...SHOP,
      // An unknown column (typo of `amount`) on line 3, in a model reading a source not staged yet.
      'models/stg_orders.sql': `SELECT
    toUInt32(id) AS order_id, customer,
    toFloat64(amuont) AS amount
FROM {{ source('shop', 'orders') }}
`,
      // Independent of it: a function that does not exist, line 2.
      'models/regions_upper.sql': `SELECT code,
    upperCaseEverything(name) AS name
FROM {{ ref('regions') }}
`,
      // A singular test with an unknown column.
      'tests/no_negative.sql': `SELECT * FROM {{ ref('regions') }} WHERE populaton < 0\n`,
      // A syntax error downstream of the broken stg_orders: parsed, so reported too.
      'models/counts.sql': `SELECT customer,\n       count( AS n\nFROM {{ ref('stg_orders') }} GROUP BY customer\n`,
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stdout).toMatch(/Validation on target 'dev' found 4 errors before any change \(\d+ nodes checked, \d+ not checked/);
    expect(r.stderr).toMatch(/^error: models\/stg_orders\.sql:3:15: model 'stg_orders' would fail on target 'dev': .*amuont/m);
    expect(r.stderr).toMatch(/^error: models\/regions_upper\.sql:2:5: model 'regions_upper' would fail on target 'dev': .*upperCaseEverything/m);
    expect(r.stderr).toMatch(/^error: tests\/no_negative\.sql:1:\d+: test 'no_negative' would fail on target 'dev': .*populaton/m);
    expect(r.stderr).toMatch(/^error: models\/counts\.sql:2:\d+: model 'counts' is not valid SQL: Syntax error/m);
    // customers reads the broken stg_orders: not reported again, counted as not checked.
    expect(r.stderr).not.toMatch(/customers/);
    expect(r.stderr).toMatch(/hint: found before any change: nothing was run/);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    expect(await warehouseContents(dir)).toEqual([]);
  });

  it('a second build with a broken edit leaves the built warehouse exactly as it was', async () => {
    const dir = writeProject(SHOP);
    expect((await runKiln(dir, ['build'])).code).toBe(0);
    const before = await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT * FROM analytics.customers ORDER BY customer');
    const tablesBefore = await warehouseContents(dir);
    writeFiles(dir, {
      'data/orders.csv': 'id,customer,amount\n1,ann,10\n2,bob,20\n3,cy,30\n',
      'models/customers.sql': "{{ config(materialized='table', order_by='customer') }}\nSELECT customer, sum(amount) AS total, max(order_date) AS last\nFROM {{ ref('stg_orders') }}\nGROUP BY customer\n",
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/customers\.sql:2:\d+: .*order_date/m);
    expect(await warehouseContents(dir)).toEqual(tablesBefore);
    // The new CSV row was not staged either: staging comes after validation.
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT toString(count()) AS n FROM raw.shop__orders')).toEqual([{ n: '2' }]);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT * FROM analytics.customers ORDER BY customer')).toEqual(before);
  });

  it('table options are checked too: an order_by column the model does not have', async () => {
    const dir = writeProject({ ...SHOP, 'models/customers.sql': "{{ config(materialized='table', order_by='customer_id') }}\nSELECT customer, sum(amount) AS total FROM {{ ref('stg_orders') }} GROUP BY customer\n" });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/customers\.sql: model 'customers' would fail on target 'dev': .*customer_id/m);
  });

  it('a model that reads a relation that neither exists nor is selected is named with a hint', async () => {
    const dir = writeProject(SHOP);
    const r = await runKiln(dir, ['run', '--select', 'customers']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toContain("error: models/stg_orders.sql: 'customers' reads model 'stg_orders' (analytics.stg_orders), which does not exist on target 'dev' and is not selected");
    expect(r.stderr).toContain('hint: select it too (e.g. --select +customers), or build it first');
  });

  it('an incremental model is checked with is_incremental() as the run will take it', async () => {
    const incremental = (column: string) => `{{ config(materialized='incremental', unique_key='order_id', order_by='order_id') }}
SELECT order_id, amount FROM {{ ref('stg_orders') }}
{% if is_incremental() %}
WHERE order_id > (SELECT max(${column}) FROM {{ this }})
{% endif %}
`;
    const dir = writeProject({ ...SHOP, 'models/orders_inc.sql': incremental('order_id') });
    expect((await runKiln(dir, ['build'])).code).toBe(0);
    writeFiles(dir, { 'models/orders_inc.sql': incremental('order_no') });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/orders_inc\.sql:4:\d+: model 'orders_inc' would fail.*order_no/m);
    // --full-refresh builds from scratch, where the incremental branch is not taken: valid.
    const full = await runKiln(dir, ['run', '--full-refresh']);
    expect(full.code, allOutput(full)).toBe(0);
  });

  it('hooks are parsed, not run: a syntax error in a post-hook is reported before anything runs', async () => {
    const dir = writeProject({ ...SHOP, 'models/customers.sql': "{{ config(materialized='table', post_hook='OPTIMIZE TABLE {{ this }} FINALL') }}\nSELECT customer FROM {{ ref('stg_orders') }}\n" });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/customers\.sql: post-hook of 'customers' is not valid SQL: .*FINALL/m);
    expect(await warehouseContents(dir)).toEqual([]);
  });

  it('--no-validate skips the check: the broken model fails at run time instead (exit 1)', async () => {
    const dir = writeProject({ ...SHOP, 'models/customers.sql': 'SELECT nope FROM {{ ref("stg_orders") }}\n' });
    const r = await runKiln(dir, ['build', '--no-validate']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(r.stdout).not.toMatch(/Validat/);
  });

  it('a target where the scratch database cannot be created is exit 2 saying what to grant', async () => {
    const dir = writeProject({
      ...SHOP,
      'project.yml': 'name: shop\ntarget: dev\ntargets:\n  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw, settings: { readonly: 1 } }\ntest-paths: [tests]\n',
    });
    const r = await runKiln(dir, ['compile', '--validate']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: target 'dev': validation cannot create its scratch database _kiln_validate_\w+: .*readonly/m);
    expect(r.stderr).toContain('hint: grant the user CREATE DATABASE and DROP DATABASE on _kiln_validate_*, or skip the check with --no-validate');
  });

  it('kiln compile --validate: checks without building; exit 2 with the errors, exit 0 when clean', async () => {
    const dir = writeProject({ ...SHOP, 'models/customers.sql': 'SELECT customer, sum(amout) AS total FROM {{ ref("stg_orders") }} GROUP BY customer\n' });
    const bad = await runKiln(dir, ['compile', '--validate']);
    expect(bad.code, allOutput(bad)).toBe(2);
    expect(bad.stderr).toMatch(/^error: models\/customers\.sql:1:\d+: .*amout/m);
    expect(await warehouseContents(dir)).toEqual([]);
    writeFiles(dir, { 'models/customers.sql': SHOP['models/customers.sql']! });
    const good = await runKiln(dir, ['compile', '--validate']);
    expect(good.code, allOutput(good)).toBe(0);
    expect(good.stdout).toMatch(/^Validated \d+ nodes on target 'dev'/m);
    expect(await warehouseContents(dir)).toEqual([]);
  });
});
