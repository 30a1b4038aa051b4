import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeMissing, missingPrograms } from '../harness/installed-programs.js';
import { REPO_ROOT, removeProjects, runKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';

/**
 * `kiln docs generate` end to end: the real CLI on a small inline project on the embedded engine,
 * the generated file opened in a real headless Chromium (Debian's `chromium` package).
 */

const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
const shots = join(REPO_ROOT, 'target', 'docs-e2e');

/** Runs kiln from the project folder (no --project-dir), as a user would. */
async function kiln(cwd: string, ...args: string[]) {
  const r = await runKiln(null, args, { cwd });
  return { code: r.code, out: r.stdout + r.stderr };
}

const SHOP = {
  'project.yml': `name: shop
version: 1
models:
  staging: { materialized: view, tags: [daily] }
  marts: { materialized: table }
target: dev
targets:
  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }
  down: { engine: clickhouse, url: "http://127.0.0.1:9", database: analytics, raw_database: raw }
`,
  'seeds/orders.csv': 'id,customer,amount,day\n1,alice,10.5,2025-01-01\n2,bob,20,2025-01-01\n3,alice,7,2025-01-02\n4,carol,30,2025-01-03\n5,bob,12,2025-01-03\n6,alice,9,2025-01-04\n',
  'models/staging/stg_orders.sql': "SELECT toUInt32(id) AS order_id, trim(customer) AS customer, toFloat64(amount) AS amount, toDate(day) AS day FROM {{ ref('orders') }}\n",
  'models/marts/fct_revenue_daily.sql': "SELECT day, sum(amount) AS revenue, count() AS orders FROM {{ ref('stg_orders') }} GROUP BY day\n",
  'models/marts/dim_customers.sql': "SELECT customer, sum(amount) AS total, count() AS orders FROM {{ ref('stg_orders') }} GROUP BY customer\n",
  'models/marts/schema.yml': `models:
  - name: dim_customers
    description: One row per customer.
    columns:
      - name: customer
        description: Customer name, trimmed.
        data_tests:
          - not_null
          - accepted_values:
              values: ['a_customer_name_long_enough_to_widen_any_table_that_does_not_wrap_its_cells_properly_0001', 'alice']
              config: { severity: warn }
      - name: total
        description: Money spent.
`,
  'models/dashboards/revenue_trend.sql': "SELECT day, revenue, orders FROM {{ ref('fct_revenue_daily') }} ORDER BY day\n",
  'models/dashboards/top_customers.sql': "SELECT customer, total FROM {{ ref('dim_customers') }} ORDER BY total DESC\n",
  'models/dashboards/broken_board.sql': "SELECT day, throwIf(revenue > 0, 'dashboard exploded') AS boom FROM {{ ref('fct_revenue_daily') }}\n",
};

const MODELS = ['orders', 'stg_orders', 'fct_revenue_daily', 'dim_customers', 'revenue_trend', 'top_customers', 'broken_board'];

const chromiumMissing = missingPrograms([CHROMIUM], ['chromium']);
if (chromiumMissing) {
  describeMissing('kiln docs in Chromium', chromiumMissing);
} else {
  describe('kiln docs in Chromium', () => {
    const root = writeProject({}, 'kiln-docs-e2e-');
    const project = join(root, 'shop');
    let context: BrowserContext;
    let page: Page;
    const errors: string[] = [];

    beforeAll(async () => {
      writeFiles(project, SHOP);
      mkdirSync(shots, { recursive: true });
      context = await chromium.launchPersistentContext(join(root, 'chromium-profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
        viewport: { width: 1400, height: 850 },
      });
      page = context.pages()[0] ?? (await context.newPage());
      page.on('pageerror', (e) => errors.push(e.message));
      // Self-contained: any request that is not the file itself is a failure.
      page.on('request', (r) => {
        if (!r.url().startsWith('file://')) errors.push(`network request: ${r.url()}`);
      });
    });
    afterAll(async () => {
      await context?.close();
      removeProjects();
    });

    const open = async (file: string, hash = '#/lineage') => {
      await page.goto('about:blank'); // a new hash on the same file would not reload it
      await page.goto(`file://${file}${hash}`);
      await page.waitForSelector('header.top');
    };

    it('before any run: the site is generated and says "not run yet"', async () => {
      const r = await kiln(project, 'docs', 'generate');
      expect(r.out).toContain('target/docs/index.html');
      expect(r.code).toBe(0);
      await open(join(project, 'target', 'docs', 'index.html'));
      await expect(page.locator('#run-summary').textContent()).resolves.toBe('not run yet');
      await expect(page.locator('#banner').textContent()).resolves.toContain('Not run yet');
      await page.click('a[data-page="timeline"]');
      await expect(page.locator('#timeline-empty').textContent()).resolves.toContain('Not run yet');
      await page.screenshot({ path: join(shots, 'not-run-yet.png') });
    });

    it('after a build: lineage shows every node, a click shows columns and highlights upstream and downstream', async () => {
      const build = await kiln(project, 'build');
      expect(build.code, build.out).toBe(0);
      const r = await kiln(project, 'docs', 'generate');
      expect(r.code, r.out).toBe(0);
      const catalog = JSON.parse(readFileSync(join(project, 'target', 'catalog.json'), 'utf8'));
      expect(catalog.nodes['model.shop.dim_customers'].columns.total.type).toBe('Float64');
      expect(catalog.nodes['model.shop.dim_customers'].stats.num_rows.value).toBe(3);

      await open(join(project, 'target', 'docs', 'index.html'));
      const labels = await page.locator('svg g.node text').allTextContents();
      expect(labels.sort()).toEqual([...MODELS].sort());
      expect(await page.locator('svg g.node.success').count()).toBe(MODELS.length);
      await page.screenshot({ path: join(shots, 'lineage.png') });

      await page.click('svg g.node[data-id="model.shop.dim_customers"]');
      const ids = (cls: string) => page.locator(`svg g.node.${cls}`).evaluateAll((els) => els.map((e) => e.getAttribute('data-id')).sort());
      await expect(ids('hl-sel')).resolves.toEqual(['model.shop.dim_customers']);
      await expect(ids('hl-up')).resolves.toEqual(['model.shop.stg_orders', 'seed.shop.orders']);
      await expect(ids('hl-down')).resolves.toEqual(['model.shop.top_customers']);
      expect(await page.locator('svg path.edge.hl-up').count()).toBe(2);
      const columns = await page.locator('#detail table.columns tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
      expect(columns).toEqual([
        ['customer', 'String', 'Customer name, trimmed.'],
        ['total', 'Float64', 'Money spent.'],
        ['orders', 'UInt64', ''],
      ]);
      await page.screenshot({ path: join(shots, 'lineage-click.png') });
    });

    it('filters the lineage with kiln selection syntax', async () => {
      const shown = async (select: string) => {
        await page.fill('#select', select);
        await page.click('#apply');
        return (await page.locator('svg g.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!.split('.').pop()))).sort();
      };
      await expect(shown('+fct_revenue_daily')).resolves.toEqual(['fct_revenue_daily', 'orders', 'stg_orders']);
      await expect(shown('stg_orders+1')).resolves.toEqual(['dim_customers', 'fct_revenue_daily', 'stg_orders']);
      await expect(shown('tag:daily')).resolves.toEqual(['stg_orders']);
      await expect(shown('path:models/dashboards')).resolves.toEqual(['broken_board', 'revenue_trend', 'top_customers']);
      await page.screenshot({ path: join(shots, 'lineage-selected.png') });
      await shown('bogus:x');
      await expect(page.locator('#select-error').textContent()).resolves.toContain("unknown selector method 'bogus'");
    });

    it('shows the node page with columns, upstream and compiled SQL', async () => {
      await open(join(project, 'target', 'docs', 'index.html'), '#/node/model.shop.dim_customers');
      await expect(page.locator('h1').textContent()).resolves.toBe('dim_customers');
      await expect(page.locator('table.columns').textContent()).resolves.toContain('Float64');
      await expect(page.locator('#compiled-sql').textContent()).resolves.toContain('`analytics`.`stg_orders`');
      await expect(page.locator('main').textContent()).resolves.toContain('models/marts/dim_customers.sql');
      await page.screenshot({ path: join(shots, 'node.png'), fullPage: true });
    });

    it('labels column tests by kind and keeps the Tests page within a 1400 px window', async () => {
      await open(join(project, 'target', 'docs', 'index.html'), '#/node/model.shop.dim_customers');
      const kinds = await page.locator('table.columns tr[data-column="customer"] .column-test').allTextContents();
      expect(kinds.map((k) => k.replace(/^(pass|warn|fail|error|not run)\s*/, '').trim()).sort()).toEqual(['accepted_values', 'not_null']);
      await page.click('a[data-page="tests"]');
      await page.waitForSelector('table.tests');
      await expect(page.locator('table.tests').textContent()).resolves.toContain('a_customer_name_long_enough');
      const overflow = await page.evaluate(() => {
        const main = document.querySelector('main')!;
        return { main: main.scrollWidth - main.clientWidth, page: document.documentElement.scrollWidth - window.innerWidth };
      });
      expect(overflow).toEqual({ main: 0, page: 0 });
      await page.screenshot({ path: join(shots, 'tests.png'), fullPage: true });
    });

    it('lists the project as a tree of folders with a search box', async () => {
      await open(join(project, 'target', 'docs', 'index.html'));
      const leaves = () => page.locator('#file-tree li.leaf').evaluateAll((els) => els.map((e) => e.textContent).sort());
      await expect(leaves()).resolves.toEqual([...MODELS].sort());
      await expect(page.locator('#file-tree summary').allTextContents()).resolves.toEqual(expect.arrayContaining(['models', 'marts', 'staging', 'dashboards', 'seeds']));
      await page.fill('#tree-search', 'CUST');
      await expect(leaves()).resolves.toEqual(['dim_customers', 'top_customers']);
      await page.fill('#tree-search', 'nothing-like-this');
      await expect(page.locator('#file-tree').textContent()).resolves.toContain('Nothing matches.');
      await page.fill('#tree-search', 'stg_');
      await page.click('#file-tree li.leaf a');
      await expect(page.locator('h1').textContent()).resolves.toBe('stg_orders');
    });

    it('draws the run timeline per thread', async () => {
      await page.click('a[data-page="timeline"]');
      await page.waitForSelector('#gantt');
      const bars = await page.locator('#gantt rect.bar').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
      expect(bars.filter((id) => !id.startsWith('test.')).sort()).toEqual(MODELS.map((m) => (m === 'orders' ? 'seed.shop.orders' : `model.shop.${m}`)).sort());
      await page.screenshot({ path: join(shots, 'timeline.png') });
    });

    it('charts dashboards: a line for a time series, bars for a ranking, the error for a failing model', async () => {
      await page.click('a[data-page="dashboards"]');
      await page.waitForSelector('.dash-grid');
      const chart = (name: string) =>
        page.evaluate((n) => {
          const c = (window as unknown as { kilnDocs: { chartOf(el: Element): { config: { type: string }; data: { labels: unknown[]; datasets: Array<{ label: string; data: unknown[] }> } } | undefined } }).kilnDocs.chartOf(document.querySelector(`#dash-${n} canvas`)!);
          return c ? { type: c.config.type, labels: c.data.labels, series: c.data.datasets.map((d) => [d.label, d.data]) } : null;
        }, name);
      await expect(chart('revenue_trend')).resolves.toEqual({
        type: 'line',
        labels: ['2025-01-01', '2025-01-02', '2025-01-03', '2025-01-04'],
        series: [['revenue', [30.5, 7, 42, 9]], ['orders', [2, 1, 2, 1]]],
      });
      await expect(chart('top_customers')).resolves.toMatchObject({ type: 'bar', labels: ['bob', 'carol', 'alice'] });
      await expect(page.locator('#dash-broken_board .dash-error').textContent()).resolves.toContain('dashboard exploded');
      expect(await page.locator('#dash-broken_board canvas').count()).toBe(0);
      await page.screenshot({ path: join(shots, 'dashboards.png'), fullPage: true });
      expect(errors).toEqual([]);
    });

    it('an unreachable warehouse: catalog skipped with a warning, site still generated', async () => {
      const other = join(root, 'offline');
      cpSync(project, other, { recursive: true, filter: (src) => !src.includes(`${project}/target`) && !src.includes('.kiln') });
      const r = await kiln(other, '--target', 'down', 'docs', 'generate');
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/warning.*catalog skipped/i);
      expect(existsSync(join(other, 'target', 'catalog.json'))).toBe(false);
      await open(join(other, 'target', 'docs', 'index.html'));
      await expect(page.locator('#banner').textContent()).resolves.toContain('catalog skipped');
      expect(await page.locator('svg g.node').count()).toBe(MODELS.length);
      await page.click('a[data-page="dashboards"]');
      await expect(page.locator('#dash-revenue_trend .dash-error').textContent()).resolves.toContain('not captured');
      await page.screenshot({ path: join(shots, 'offline.png') });
    });

    it("after a run of one model, every other node keeps the status of its last run", async () => {
      const one = await kiln(project, 'run', '--select', 'stg_orders');
      expect(one.code, one.out).toBe(0);
      const r = await kiln(project, 'docs', 'generate');
      expect(r.code, r.out).toBe(0);
      await open(join(project, 'target', 'docs', 'index.html'), '#/node/model.shop.dim_customers');
      await expect(page.locator('main .badge').first().textContent()).resolves.toBe('success');
      await expect(page.locator('main').textContent()).resolves.not.toContain('not run yet');
      await open(join(project, 'target', 'docs', 'index.html'));
      expect(await page.locator('svg g.node.none').count()).toBe(0);
    });
  });
}
