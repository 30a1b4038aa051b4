import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { serverProjectYml, serverSession } from '../helpers/server-target.js';
import { allOutput, removeProjects, STACK_FRAME, writeFiles, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

/**
 * Validation before any change (issue 16) on Debian's clickhouse-server 18.16: the shadow is an
 * ordinary scratch database (no EMPTY AS, no Memory database for MergeTree tables), hooks are
 * parsed by the local engine (no EXPLAIN), and it is dropped afterwards — or, after a kill, by
 * the next run, which holds the target lock.
 */
afterAll(removeProjects);

const PROJECT = (database: string): ProjectFiles => ({
  'project.yml': serverProjectYml(database),
  'data/orders.csv': 'id,customer,amount\n1,ann,10\n2,bob,20\n',
  'sources.yml': 'sources:\n  - name: shop\n    loader: csv\n    tables:\n      - name: orders\n        path: data/orders.csv\n',
  'seeds/regions.csv': 'code,name\nEU,Europe\n',
  'models/stg_orders.sql': "SELECT toUInt32(id) AS order_id, customer, toFloat64(amount) AS amount\nFROM {{ source('shop', 'orders') }}\n",
  'models/customers.sql': "{{ config(materialized='table', order_by='customer', post_hook='OPTIMIZE TABLE {{ this }}') }}\nSELECT customer, sum(amount) AS total\nFROM {{ ref('stg_orders') }}\nGROUP BY customer\n",
  'models/schema.yml': 'models:\n  - name: customers\n    columns:\n      - name: customer\n        data_tests: [unique, not_null]\n',
});

describeWithClickHouse('validation before any change on clickhouse-server', (getServer) => {
  const { kiln, rows } = serverSession(getServer);
  const databases = async (prefix: string) => (await rows<{ name: string }>(`SELECT name FROM system.databases WHERE startsWith(name, '${prefix}') ORDER BY name`)).map((r) => r.name);

  it('errors in a first build are found before anything is created, on their own lines', async () => {
    const dir = writeProject({
      ...PROJECT('v1'),
      'models/stg_orders.sql': "SELECT toUInt32(id) AS order_id, customer,\n    toFloat64(amuont) AS amount\nFROM {{ source('shop', 'orders') }}\n",
      'models/regions_upper.sql': "SELECT code, upperCaseEverything(name) AS name FROM {{ ref('regions') }}\n",
    });
    const r = await kiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/stg_orders\.sql:2:\d+: model 'stg_orders' would fail on target 'ch': .*amuont/m);
    expect(r.stderr).toMatch(/^error: models\/regions_upper\.sql:1:\d+: model 'regions_upper' would fail on target 'ch': .*upperCaseEverything/m);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    expect(await databases('v1')).toEqual([]);
    expect(await databases('_kiln_validate_')).toEqual([]);
  });

  it('a good project validates (models, seed, tests, hook) and builds; the scratch database is dropped', async () => {
    const dir = writeProject(PROJECT('v2'));
    const r = await kiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stdout).toMatch(/^Validated 5 nodes and 1 hooks on target 'ch' in [\d.]+s$/m);
    expect(await rows(`SELECT customer, total FROM v2.customers ORDER BY customer`)).toEqual([
      { customer: 'ann', total: 10 },
      { customer: 'bob', total: 20 },
    ]);
    expect(await databases('_kiln_validate_')).toEqual([]);
  });

  it('a run killed during validation leaves only its scratch database, which the next run drops', async () => {
    const dir = writeProject(PROJECT('v3'));
    expect((await kiln(dir, ['build'])).code).toBe(0);
    // The lock's own statements are not counted; the 3rd counted statement is inside validation.
    const crashed = await kiln(dir, ['build'], { KILN_CRASH_AFTER: '3' });
    expect(crashed.signal === 'SIGKILL' || crashed.code === 137, allOutput(crashed)).toBe(true);
    expect((await databases('_kiln_validate_')).length).toBe(1);
    const again = await kiln(dir, ['build', '--wait', '60']);
    expect(again.code, allOutput(again)).toBe(0);
    expect(await databases('_kiln_validate_')).toEqual([]);
  });

  it('a WITH clause, which 18.16 lacks, is reported by validation before staging changes anything', async () => {
    const dir = writeProject(PROJECT('v4'));
    writeFiles(dir, { 'models/customers.sql': "WITH o AS (SELECT customer, amount FROM {{ ref('stg_orders') }})\nSELECT customer, sum(amount) AS total FROM o GROUP BY customer\n" });
    const r = await kiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/customers\.sql(:\d+)*: model 'customers' would fail on target 'ch'/m);
    expect(await databases('v4')).toEqual([]);
  });
});
