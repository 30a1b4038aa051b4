import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { removeProjects, runKiln, runResults, startKiln, writeFiles } from '../helpers/kiln-cli.js';
import { ACTUAL_NET, ACTUAL_SALES, EXPECTED_NET, EXPECTED_SALES, mviewProject, orders, SALES_SQL, SALES_SQL_CHANGED } from '../helpers/mview-project.js';

/**
 * materialized_view on Debian's clickhouse-server 18.16: no MODIFY QUERY, so a changed SELECT is
 * a rebuild of the table and its views under the target lock, and no EXCHANGE (rename pair).
 */
afterAll(removeProjects);

const SERVER_TARGET = `{ engine: clickhouse, url: "{{ env_var('KILN_TEST_CH_URL') }}", username: "{{ env_var('KILN_TEST_CH_USER') }}", password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}", database: analytics, raw_database: raw }`;

describeWithClickHouse('materialized_view on clickhouse-server', (getServer) => {
  let server: ClickHouseServer;
  let client: ClickHouseClient;
  let env: Record<string, string>;
  const dir = mviewProject(SERVER_TARGET);
  beforeAll(() => {
    server = getServer();
    client = createClient({ url: server.url, username: server.username, password: server.password });
    env = { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password };
  });
  afterAll(async () => {
    await client?.close();
  });
  const kiln = (args: string[]) => runKiln(dir, args, { env });
  const q = async (sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
  const names = async () => (await q("SELECT name FROM system.tables WHERE database = 'analytics' ORDER BY name")).map((r) => r.name);
  const expectTotalsMatchRaw = async (sales = EXPECTED_SALES) => {
    expect(await q(ACTUAL_SALES)).toEqual(await q(sales));
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
  };
  const RELATIONS = ['net_by_sku', 'net_by_sku_orders', 'net_by_sku_returns', 'sales_by_sku', 'sales_by_sku_mv'];

  it('is an old server without MODIFY QUERY', () => {
    expect(server.version).toMatch(/^18\.16\./);
  });

  describe('build, stage, redeploy', () => {
    it('first build backfills the staged rows once', async () => {
      const r = await kiln(['build']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await names()).toEqual(RELATIONS);
      expect(await q(ACTUAL_SALES)).toEqual([
        { sku: 'a', qty: '2', n: '2' },
        { sku: 'b', qty: '4', n: '2' },
        { sku: 'c', qty: '6', n: '2' },
      ]);
      await expectTotalsMatchRaw();
    });

    it('kiln stage of new files updates both tables with no model run', async () => {
      writeFiles(dir, { 'data/orders_2.csv': orders(7, 40), 'data/returns_2.csv': 'id,sku,qty\n2,b,2\n3,c,1\n' });
      const r = await kiln(['stage']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await q(ACTUAL_SALES)).toEqual([
        { sku: 'a', qty: '13', n: '13' },
        { sku: 'b', qty: '28', n: '14' },
        { sku: 'c', qty: '39', n: '13' },
      ]);
      await expectTotalsMatchRaw();
    });

    it('an unchanged SELECT is a no-op', async () => {
      const r = await kiln(['run']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('materialized view analytics.sales_by_sku unchanged');
      expect(runResults(dir).get('model.mv.net_by_sku')?.message).toBe('materialized view analytics.net_by_sku unchanged');
      await expectTotalsMatchRaw();
    });

    it('a changed SELECT rebuilds the table and its view from every staged row', async () => {
      writeFiles(dir, { 'models/sales_by_sku.sql': SALES_SQL_CHANGED });
      const r = await kiln(['run', '--select', 'sales_by_sku']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('created table analytics.sales_by_sku fed by materialized view sales_by_sku_mv');
      const changed = EXPECTED_SALES.replace('GROUP BY', "WHERE sku != 'a' GROUP BY");
      await expectTotalsMatchRaw(changed);
      expect(await names()).toEqual(RELATIONS);
    });

    it('a redeploy while a load inserts loses nothing and counts nothing twice (two processes)', async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 12; i++) files[`data/orders_1${String(i).padStart(2, '0')}.csv`] = orders(1000 + i * 50, 1049 + i * 50);
      writeFiles(dir, { ...files, 'models/sales_by_sku.sql': SALES_SQL });
      const load = startKiln(dir, ['stage', '--wait'], { env });
      const redeploy = startKiln(dir, ['run', '--wait'], { env });
      const [l, d] = await Promise.all([load.done, redeploy.done]);
      expect(l.code, l.stdout + l.stderr).toBe(0);
      expect(d.code, d.stdout + d.stderr).toBe(0);
      expect(Number((await q('SELECT count() AS n FROM raw.shop__orders'))[0]!.n)).toBe(6 + 34 + 600);
      await expectTotalsMatchRaw();
      // And what lands after the redeploy is counted by the new view.
      writeFiles(dir, { 'data/orders_200.csv': orders(5000, 5011) });
      expect((await kiln(['stage'])).code).toBe(0);
      await expectTotalsMatchRaw();
    });

    it('--full-refresh rebuilds every table and view', async () => {
      const r = await kiln(['run', '--full-refresh']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(await names()).toEqual(RELATIONS);
      await expectTotalsMatchRaw();
    });

    it('a changed file, which the views do not see, makes kiln stage rebuild the model it feeds', async () => {
      writeFiles(dir, { 'data/returns_1.csv': 'id,sku,qty\n1,a,5\n' });
      const r = await kiln(['stage']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('net_by_sku is rebuilt after the load: the reload of raw.shop__returns reaches none of its materialized views');
      expect(await names()).toEqual(RELATIONS);
      await expectTotalsMatchRaw();
    });
  });
});
