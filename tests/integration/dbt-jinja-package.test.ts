import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, removeProjects, runKiln, writeFiles, writeProject, type KilnResult } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * A dbt project in dbt's own layout (dbt_project.yml with dispatch:, packages.yml with a local:
 * package, no kiln file) whose package macros work like dbt_utils': dispatch, return() of lists
 * and numbers, **kwargs, run_query, statement/load_result, adapter.get_columns_in_relation and
 * dbt's cross-database macros. The introspective models render with execute=false at compile and
 * again, against the warehouse, when they execute. Embedded engine; no network.
 */
afterAll(removeProjects);

const FIXTURE = join(REPO_ROOT, 'tests/fixtures/dbt-jinja');

describe('a dbt project with a dbt_utils-style package', () => {
  let dir: string;
  let wh: string;
  let build: KilnResult;
  beforeAll(async () => {
    const parent = writeProject({});
    cpSync(FIXTURE, parent, { recursive: true });
    dir = join(parent, 'shop');
    wh = join(dir, '.kiln/dev');
    build = await runKiln(dir, ['build', '--threads', '1']);
  });

  it('builds every model and passes the package generic tests', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/models +6 +0 +0 +0 +0/);
    // same_rows asks the warehouse for both relations' columns: rendered again when it runs.
    expect(build.stdout).toMatch(/PASS +test mini_utils_same_rows_orders_star_ref_orders_/);
    expect(build.stdout).toMatch(/data tests +3 +0 +0 +0 +0/);
  });

  it('star() read the columns at execution; the compiled SQL is what execute=false renders', async () => {
    const rows = await queryWarehouse(wh, "SELECT name FROM system.columns WHERE database = 'analytics' AND table = 'orders_star' ORDER BY position");
    expect(rows.map((r) => r.name)).toEqual(['order_id', 'customer', 'status']);
    expect(readFileSync(join(dir, 'target/compiled/models/orders_star.sql'), 'utf8')).toContain('SELECT *');
    expect(readFileSync(join(dir, 'target/run/models/orders_star.sql'), 'utf8')).toContain('SELECT o.`order_id`, o.`customer`, o.`status`\n');
  });

  it('get_column_values() (statement + load_result) pivots on the values the table has', async () => {
    const rows = await queryWarehouse(wh, 'SELECT customer, paid, refunded FROM analytics.orders_pivot ORDER BY customer');
    expect(rows).toEqual([
      { customer: 'ann', paid: 1, refunded: 1 },
      { customer: 'bob', paid: 1, refunded: 0 },
      { customer: 'cid', paid: 1, refunded: 0 },
    ]);
  });

  it('union_relations() unions relations with different columns', async () => {
    const rows = await queryWarehouse(wh, 'SELECT _dbt_source_relation AS src, order_id, reason FROM analytics.orders_union ORDER BY src, order_id');
    expect(rows).toEqual([
      ...[1, 2, 3, 4].map((order_id) => ({ src: 'orders', order_id, reason: null })),
      { src: 'returns', order_id: 3, reason: 'damaged' },
    ]);
  });

  it('run_query, the project\'s dispatched override, and cross-database macros', async () => {
    const rows = await queryWarehouse<{ order_id: number; order_key: string; order_id_text: string; share: number; next_day: string; middle: string }>(
      wh,
      "SELECT order_id, order_key, order_key = (SELECT lower(hex(MD5(concat(toString(o.order_id), o.customer)))) FROM analytics.orders AS o WHERE o.order_id = order_keys.order_id) AS root_override, order_id_text, share, toString(next_day) AS next_day, middle FROM analytics.order_keys ORDER BY order_id",
    );
    expect(rows.map((r) => r.order_id_text)).toEqual(['1', '2', '3', '4']);
    expect(rows.every((r) => (r as unknown as { root_override: number }).root_override === 1)).toBe(true);
    // run_query read the total (42) when the model executed.
    expect(rows.map((r) => Math.round(r.share * 42))).toEqual([10, 20, 5, 7]);
    expect(rows[0]).toMatchObject({ next_day: '2024-02-01', middle: 'b' });
  });

  it('a number from return() and dbt.dateadd/datediff', async () => {
    expect((await queryWarehouse(wh, 'SELECT count() AS n, max(generated_number) AS top FROM analytics.numbers'))[0]).toEqual({ n: 10, top: 10 });
    const days = await queryWarehouse(wh, 'SELECT toString(date_day) AS d FROM analytics.days ORDER BY d');
    expect(days.map((r) => r.d)).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
  });

  it('an error raised in a package macro names the macro file line and the model line', async () => {
    writeFiles(dir, { 'models/broken.sql': "SELECT 1\nUNION ALL\nSELECT {{ mini_utils.star(ref('empty')) }}\n", 'models/empty.sql': "{{ config(materialized='table') }}SELECT 1 AS x WHERE 0" });
    // Validation would stop this first (broken reads `empty`, which is neither built nor selected);
    // without it the run renders broken against the warehouse and the package macro raises.
    const checked = await runKiln(dir, ['build', '--select', 'broken', '--threads', '1']);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain("'broken' reads model 'empty' (analytics.empty), which does not exist on target");
    const r = await runKiln(dir, ['build', '--select', 'broken', '--threads', '1', '--no-validate']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 of 1 ERROR');
    expect(r.stdout).toContain('models/broken.sql:3: star() found no columns in empty (in macro ../mini_utils/macros/columns.sql:12, called from ../mini_utils/macros/columns.sql:3)');
  });
});
