import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson, removeProjects, runKiln, runResults, writeFiles } from '../helpers/kiln-cli.js';
import { ACTUAL_NET, ACTUAL_SALES, EXPECTED_NET, EXPECTED_SALES, mviewProject, orders, SALES_SQL, SALES_SQL_CHANGED } from '../helpers/mview-project.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

afterAll(removeProjects);

const EMBEDDED = '{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }';

describe('materialized_view on the embedded engine', () => {
  const dir = mviewProject(EMBEDDED);
  const db = `${dir}/.kiln/dev`;
  const q = (sql: string) => queryWarehouse(db, sql);
  const expectTotalsMatchRaw = async () => {
    expect(await q(ACTUAL_SALES)).toEqual(await q(EXPECTED_SALES));
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
  };

  it('first build creates the tables and their views and backfills the staged rows once', async () => {
    const r = await runKiln(dir, ['build']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK +materialized_view model analytics\.sales_by_sku \.+ \[3 rows, /);
    expect(r.stdout).toMatch(/OK +materialized_view model analytics\.net_by_sku/);
    expect(await relationNames(db, 'analytics')).toEqual(['net_by_sku', 'net_by_sku_orders', 'net_by_sku_returns', 'sales_by_sku', 'sales_by_sku_mv']);
    expect(await q(ACTUAL_SALES)).toEqual([
      { sku: 'a', qty: 2, n: 2 },
      { sku: 'b', qty: 4, n: 2 },
      { sku: 'c', qty: 6, n: 2 },
    ]);
    await expectTotalsMatchRaw();
  });

  it('kiln stage of new files updates both tables with no model run', async () => {
    writeFiles(dir, { 'data/orders_2.csv': orders(7, 40), 'data/returns_2.csv': 'id,sku,qty\n2,b,2\n3,c,1\n' });
    const r = await runKiln(dir, ['stage']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await q(ACTUAL_SALES)).toEqual([
      { sku: 'a', qty: 13, n: 13 },
      { sku: 'b', qty: 28, n: 14 },
      { sku: 'c', qty: 39, n: 13 },
    ]);
    await expectTotalsMatchRaw();
    // Staging the same files again loads nothing and adds nothing.
    expect((await runKiln(dir, ['stage'])).code).toBe(0);
    await expectTotalsMatchRaw();
  });

  it('an unchanged SELECT is a no-op redeploy', async () => {
    const r = await runKiln(dir, ['run']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('materialized view analytics.sales_by_sku unchanged');
    expect(runResults(dir).get('model.mv.net_by_sku')?.message).toBe('materialized view analytics.net_by_sku unchanged');
    // Only reads and the scratch view that compares the SELECTs: nothing of the model was touched.
    const sent = readFileSync(join(dir, 'target/run/models/net_by_sku.sql'), 'utf8');
    expect(sent).not.toMatch(/^(CREATE TABLE|CREATE MATERIALIZED|ALTER|INSERT|RENAME|EXCHANGE|DROP TABLE IF EXISTS `analytics`\.`net_by_sku)/m);
    expect(await relationNames(db, 'analytics')).toEqual(['net_by_sku', 'net_by_sku_orders', 'net_by_sku_returns', 'sales_by_sku', 'sales_by_sku_mv']);
    await expectTotalsMatchRaw();
  });

  it('a changed SELECT is switched with MODIFY QUERY: the rows so far stay, new inserts use it', async () => {
    const before = await q(ACTUAL_SALES);
    writeFiles(dir, { 'models/sales_by_sku.sql': SALES_SQL_CHANGED });
    const r = await runKiln(dir, ['run', '--select', 'sales_by_sku']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('modified the query of sales_by_sku_mv into analytics.sales_by_sku');
    expect(await q(ACTUAL_SALES)).toEqual(before);
    writeFiles(dir, { 'data/orders_3.csv': orders(41, 43) }); // c 3, a 1 (no longer counted), b 2
    expect((await runKiln(dir, ['stage'])).code).toBe(0);
    expect(await q(ACTUAL_SALES)).toEqual([
      { sku: 'a', qty: 13, n: 13 },
      { sku: 'b', qty: 30, n: 15 },
      { sku: 'c', qty: 42, n: 14 },
    ]);
  });

  it('--full-refresh rebuilds the table from every staged row with the current SELECT', async () => {
    const r = await runKiln(dir, ['run', '--full-refresh']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await q(ACTUAL_SALES)).toEqual(await q(EXPECTED_SALES.replace('GROUP BY', "WHERE sku != 'a' GROUP BY")));
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
    expect(await relationNames(db, 'analytics')).toEqual(['net_by_sku', 'net_by_sku_orders', 'net_by_sku_returns', 'sales_by_sku', 'sales_by_sku_mv']);
    writeFiles(dir, { 'models/sales_by_sku.sql': SALES_SQL });
  });

  it('the manifest lists each view with the sources that feed it', () => {
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.mv.net_by_sku'].materialized_views).toEqual([
      { name: 'net_by_sku_orders', relation_name: '`analytics`.`net_by_sku_orders`', depends_on: { nodes: ['source.mv.shop.orders'] } },
      { name: 'net_by_sku_returns', relation_name: '`analytics`.`net_by_sku_returns`', depends_on: { nodes: ['source.mv.shop.returns'] } },
    ]);
    expect(manifest.nodes['model.mv.sales_by_sku'].materialized_views).toEqual([
      { name: 'sales_by_sku_mv', relation_name: '`analytics`.`sales_by_sku_mv`', depends_on: { nodes: ['source.mv.shop.orders'] } },
    ]);
  });
  it('a changed file is replaced whole, which the views do not see: kiln stage rebuilds the model it feeds', async () => {
    writeFiles(dir, { 'data/returns_1.csv': 'id,sku,qty\n1,a,5\n' });
    const r = await runKiln(dir, ['stage']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('net_by_sku is rebuilt after the load: the reload of raw.shop__returns reaches none of its materialized views');
    expect(r.stdout).toMatch(/OK +materialized_view model analytics\.net_by_sku \.+ \[\d+ rows/);
    expect(r.stdout + r.stderr).not.toContain('keep what its earlier rows added');
    // The first version's return (1 of sku a) is gone, the new one (5) counted once: no model run.
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
    expect(await relationNames(db, 'analytics')).toContain('net_by_sku_returns');
    // sales_by_sku reads only orders: its views saw every load, so the step leaves it as it is.
    expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('materialized view analytics.sales_by_sku: its views saw every load');
    // --prune of a vanished file is a replace too.
    rmSync(join(dir, 'data/returns_2.csv'));
    expect((await runKiln(dir, ['stage', '--prune'])).code).toBe(0);
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
  });

  it('a view dropped from the model is dropped from the warehouse, and the table rebuilt without it', async () => {
    writeFiles(dir, {
      'models/net_by_sku.sql': `{{ config(materialized='materialized_view', engine='MergeTree()', order_by='sku') }}
--orders:begin
SELECT sku, toInt64(qty) AS qty FROM {{ source('shop', 'orders') }}
--orders:end
`,
    });
    const r = await runKiln(dir, ['run', '--select', 'net_by_sku']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await relationNames(db, 'analytics')).toEqual(['net_by_sku', 'net_by_sku_orders', 'sales_by_sku', 'sales_by_sku_mv']);
    expect(await q(ACTUAL_NET)).toEqual(await q('SELECT sku, sum(toInt64(qty)) AS qty FROM raw.shop__orders GROUP BY sku ORDER BY sku'));
  });
});
