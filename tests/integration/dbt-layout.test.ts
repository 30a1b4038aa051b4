import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { readJson, REPO_ROOT, removeProjects, runKiln, writeFiles, writeProject, type KilnResult } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * tests/fixtures/dbt-layout is a dbt project as dbt writes it — dbt_project.yml, profiles.yml,
 * packages.yml with a local: package, docs blocks, a source someone else fills, Jinja in a
 * folder config, macros dispatched through adapter.dispatch with a dispatch: search order, a
 * model that asks the warehouse with run_query — and no kiln file. It builds with kiln as it is.
 */
afterAll(removeProjects);

const FIXTURE = join(REPO_ROOT, 'tests/fixtures/dbt-layout');
const all = (r: KilnResult) => `${r.stdout}\n${r.stderr}`;

function copyFixture(): string {
  const dir = writeProject({}, 'kiln-dbt-layout-');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe('a dbt project in dbt’s own layout, on the built-in embedded target', () => {
  let dir: string;
  let build: KilnResult;
  beforeAll(async () => {
    dir = copyFixture();
    // crm.customers is a table someone else fills: here the seeds, loaded first as a dbt user would.
    const seed = await runKiln(dir, ['seed', '--target', 'embedded']);
    expect(seed.code, all(seed)).toBe(0);
    build = await runKiln(dir, ['build', '--target', 'embedded']);
  }, 240_000);

  it('builds every model, seed and test, the package’s included, with no warning', async () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/^Finished 12 nodes in \d+\.\d\ds: 12 ok$/m);
    expect(build.stdout).toMatch(/OK +view model jaffle\.shop_utils_calendar/);
    expect(build.stdout).toMatch(/PASS +test shop_utils_is_positive_stg_orders_amount/);
    expect(build.stdout).toMatch(/PASS +test assert_no_negative_totals/);
    // +enabled: "{{ var('include_returns', false) }}" switched the returns folder off.
    expect(build.stdout).not.toContain('returned_orders');
    const rows = await queryWarehouse(join(dir, '.kiln/embedded'), 'SELECT toString(customer_id) AS id, first_name, toString(total_amount) AS total, toString(is_vip) AS vip FROM jaffle.customers ORDER BY customer_id');
    expect(rows).toEqual([
      { id: '1', first_name: 'Ada', total: '35', vip: '1' },
      { id: '2', first_name: 'Grace', total: '5', vip: '0' },
      { id: '3', first_name: 'Edsger', total: '40', vip: '1' },
    ]);
    // run_query read the total (80) from the warehouse when the model ran.
    const shares = await queryWarehouse(join(dir, '.kiln/embedded'), 'SELECT toString(order_id) AS id, toString(share) AS share FROM jaffle.order_share ORDER BY order_id');
    expect(shares).toEqual([
      { id: '1', share: '0.12' },
      { id: '2', share: '0.31' },
      { id: '3', share: '0.06' },
      { id: '4', share: '0.5' },
    ]);
  });

  it('adapter.dispatch picks clickhouse__ over default__, and the project’s own first where dispatch: says so', () => {
    // The package's clickhouse__surrogate_key, not its default__ (md5).
    expect(readFileSync(join(dir, 'target/compiled/models/staging/stg_orders.sql'), 'utf8')).toContain('cityHash64(order_id, customer_id) as order_key');
    // The project's clickhouse__title_case, searched before the package's default__.
    expect(readFileSync(join(dir, 'target/compiled/models/staging/stg_customers.sql'), 'utf8')).toContain('concat(upperUTF8(substringUTF8(first_name, 1, 1))');
  });

  it('the manifest has the package’s nodes, resolved docs blocks and the source as dbt names it', () => {
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.shop_utils.shop_utils_calendar']).toMatchObject({ package_name: 'shop_utils', original_file_path: 'local_packages/shop_utils/models/shop_utils_calendar.sql' });
    expect(manifest.nodes['model.jaffle_lite.customers'].description).toBe('One row per customer, with what they spent.');
    expect(manifest.nodes['model.jaffle_lite.stg_orders'].columns.status.description).toBe('One of **placed**, **shipped** or **returned**.');
    expect(manifest.sources['source.jaffle_lite.crm.customers']).toMatchObject({ relation_name: '`jaffle`.`raw_customers`' });
    expect(manifest.macros['macro.shop_utils.surrogate_key']).toMatchObject({ original_file_path: 'local_packages/shop_utils/macros/keys.sql' });
  });

  it('the docs site shows the docs blocks’ text, not the doc() call', async () => {
    const r = await runKiln(dir, ['docs', 'generate', '--target', 'embedded']);
    expect(r.code, all(r)).toBe(0);
    const site = readFileSync(join(dir, 'target/docs/index.html'), 'utf8');
    expect(site).toContain('One row per customer, with what they spent.');
    expect(site).not.toMatch(/\{\{\s*doc\(/);
  });
});

describe('the same project with its profile', () => {
  it('compiles with no server (the profile’s dev target), and build names the server it cannot reach', async () => {
    const dir = copyFixture();
    const env = { JAFFLE_CH_PORT: '9' };
    const compile = await runKiln(dir, ['compile'], { env });
    expect(compile.code, all(compile)).toBe(0);
    expect(readJson(dir, 'target/manifest.json').metadata).toMatchObject({ target_name: 'dev', adapter_type: 'clickhouse' });
    const build = await runKiln(dir, ['build'], { env });
    expect(build.code).toBe(2);
    expect(build.stderr).toBe("error: target 'dev': cannot reach ClickHouse at http://127.0.0.1:9: ECONNREFUSED\n  hint: check the target url, that the server is running, and the network path to it\n");
  });

  it('--profiles-dir, then DBT_PROFILES_DIR, name the profiles.yml to read', async () => {
    const dir = copyFixture();
    const profile = readFileSync(join(FIXTURE, 'profiles.yml'), 'utf8');
    writeFiles(dir, { 'flag/profiles.yml': profile.replace("'127.0.0.1'", "'127.0.0.2'"), 'envdir/profiles.yml': profile.replace("'127.0.0.1'", "'127.0.0.3'") });
    const env = { JAFFLE_CH_PORT: '9', DBT_PROFILES_DIR: join(dir, 'envdir') };
    const byEnv = await runKiln(dir, ['build'], { env });
    expect(byEnv.stderr).toContain("cannot reach ClickHouse at http://127.0.0.3:9");
    const byFlag = await runKiln(dir, ['build', '--profiles-dir', 'flag'], { env });
    expect(byFlag.stderr).toContain("cannot reach ClickHouse at http://127.0.0.2:9");
  });

  it('kiln targets: in dbt_project.yml win over the profile; their settings apply on the embedded engine', async () => {
    const dir = copyFixture();
    writeFiles(dir, {
      'dbt_project.yml': `${readFileSync(join(FIXTURE, 'dbt_project.yml'), 'utf8')}\ntargets:\n  local: { engine: embedded, path: .kiln/local, database: jaffle, settings: { max_query_size: 123457 } }\n`,
      'models/settings_probe.sql': "select getSetting('max_query_size') as v",
    });
    const r = await runKiln(dir, ['run', '--select', 'settings_probe']);
    expect(r.code, all(r)).toBe(0);
    expect(existsSync(join(dir, '.kiln/local'))).toBe(true);
    // The view reads the setting of the session querying it: kiln's, on the target, has the target's settings.
    const show = await runKiln(dir, ['show', 'settings_probe']);
    expect(show.stdout).toMatch(/^\| 123457 +\|$/m);
  });
});

describeWithClickHouse('the same project with its profile, on a ClickHouse server', (getServer) => {
  it('builds into the profile’s schema with the profile’s user', async () => {
    const server = getServer();
    const dir = copyFixture();
    const env = { JAFFLE_CH_PORT: String(server.httpPort), JAFFLE_CH_USER: server.username, JAFFLE_CH_PASSWORD: server.password };
    const seed = await runKiln(dir, ['seed'], { env });
    expect(seed.code, all(seed)).toBe(0);
    const build = await runKiln(dir, ['build'], { env });
    expect(build.code, all(build)).toBe(0);
    expect(build.stdout).toMatch(/^Finished 12 nodes in \d+\.\d\ds: 12 ok$/m);
    const client = createClient({ url: server.url, username: server.username, password: server.password });
    try {
      const rows = await (await client.query({ query: 'SELECT toString(customer_id) AS id, toString(total_amount) AS total FROM jaffle.customers ORDER BY customer_id', format: 'JSONEachRow' })).json();
      expect(rows).toEqual([
        { id: '1', total: '35' },
        { id: '2', total: '5' },
        { id: '3', total: '40' },
      ]);
    } finally {
      await client.close();
    }
  });
});
