import { afterAll, describe, expect, it } from 'vitest';
// By the package's name, as a user's code imports it: this goes through package.json's
// `exports` to dist/api/index.js, so a broken entry point fails here.
import { build, CollectingReporter, KilnError, list, type NodeResult } from 'kiln-clickhouse';
import { projectYml, removeProjects, writeProject } from '../helpers/kiln-cli.js';
import { queryTarget } from '../helpers/warehouse.js';

afterAll(removeProjects);

const project = {
  'project.yml': projectYml('shop'),
  'seeds/orders.csv': 'id,customer,amount\n1,ada,10\n2,ada,15\n3,bob,7\n',
  'models/stg_orders.sql': "{{ config(materialized='view') }}\nSELECT id, customer, amount FROM {{ ref('orders') }}\n",
  'models/customer_totals.sql':
    "{{ config(materialized='table', order_by='customer') }}\nSELECT customer, sum(amount) AS total, count() AS orders FROM {{ ref('stg_orders') }} GROUP BY customer\n",
  'models/schema.yml': `models:
  - name: customer_totals
    columns:
      - name: customer
        data_tests: [unique, not_null]
`,
};

const statusOf = (results: readonly NodeResult[]) => Object.fromEntries(results.map((r) => [r.unique_id, r.status]));

describe("the package's public entry", () => {
  it('builds a project: seed, models and tests succeed, the table holds the rows, events are reported', async () => {
    const dir = writeProject(project);
    const reporter = new CollectingReporter();
    const outcome = await build({ projectDir: dir, reporter });

    expect(statusOf(outcome.results)).toEqual({
      'seed.shop.orders': 'success',
      'model.shop.stg_orders': 'success',
      'model.shop.customer_totals': 'success',
      'test.shop.unique_customer_totals_customer': 'pass',
      'test.shop.not_null_customer_totals_customer': 'pass',
    });
    expect(outcome.results.find((r) => r.unique_id === 'model.shop.customer_totals')?.relation_name).toBe('analytics.customer_totals');
    const summary = reporter.events.find((e) => e.type === 'summary');
    expect(summary?.type === 'summary' && summary.results.length).toBe(5);

    const rows = await queryTarget<{ customer: string; total: number; orders: number }>(
      dir,
      'SELECT customer, toFloat64(total) AS total, toUInt32(orders) AS orders FROM analytics.customer_totals ORDER BY customer',
    );
    expect(rows).toEqual([
      { customer: 'ada', total: 25, orders: 2 },
      { customer: 'bob', total: 7, orders: 1 },
    ]);
  });

  it('lists the selected nodes without a warehouse', () => {
    const dir = writeProject(project);
    expect(list({ projectDir: dir, select: ['+customer_totals'], resourceTypes: ['model', 'seed'] }).map((n) => n.name)).toEqual([
      'orders',
      'stg_orders',
      'customer_totals',
    ]);
  });

  it('throws a KilnError with a code and the file for a broken project, and runs nothing', async () => {
    const dir = writeProject({ ...project, 'models/broken.sql': "SELECT * FROM {{ ref('no_such_model') }}\n" });
    const error = await build({ projectDir: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).code).toBe('UNKNOWN_REF');
    expect((error as KilnError).location?.file).toBe('models/broken.sql');
  });
});
