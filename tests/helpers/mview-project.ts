import { writeFiles, writeProject } from './kiln-cli.js';

/**
 * An inline project for the materialized_view suites: CSV orders and returns staged into raw
 * tables, `sales_by_sku` (one view over orders) and `net_by_sku` (two views, orders and returns,
 * into one table). `target` is the YAML of the project's one target, named `dev`.
 */
export function mviewProject(target: string, files: Readonly<Record<string, string>> = {}): string {
  return writeProject(
    {
      'project.yml': `name: mv\nversion: 1\ntarget: dev\ntargets:\n  dev: ${target}\n`,
      'sources.yml': `sources:
  - name: shop
    loader: csv
    tables:
      - name: orders
        path: "data/orders_*.csv"
        columns: [{ name: id, type: UInt32 }, { name: sku, type: String }, { name: qty, type: UInt32 }]
      - name: returns
        path: "data/returns_*.csv"
        columns: [{ name: id, type: UInt32 }, { name: sku, type: String }, { name: qty, type: UInt32 }]
`,
      'models/sales_by_sku.sql': SALES_SQL,
      'models/net_by_sku.sql': `{{ config(materialized='materialized_view', engine='MergeTree()', order_by='sku') }}
--orders:begin
SELECT sku, toInt64(qty) AS qty FROM {{ source('shop', 'orders') }}
--orders:end
UNION ALL
--returns:begin
SELECT sku, -toInt64(qty) AS qty FROM {{ source('shop', 'returns') }}
--returns:end
`,
      'data/orders_1.csv': orders(1, 6),
      'data/returns_1.csv': 'id,sku,qty\n1,a,1\n',
      ...files,
    },
    'kiln-mview-',
  );
}

export const SALES_SQL = `{{ config(materialized='materialized_view', engine='SummingMergeTree()', order_by='sku') }}
SELECT sku, sum(qty) AS qty, count() AS n FROM {{ source('shop', 'orders') }} GROUP BY sku
`;

/** The same columns from a different SELECT: orders of sku a no longer count. */
export const SALES_SQL_CHANGED = `{{ config(materialized='materialized_view', engine='SummingMergeTree()', order_by='sku') }}
SELECT sku, sum(qty) AS qty, count() AS n FROM {{ source('shop', 'orders') }} WHERE sku != 'a' GROUP BY sku
`;

/** Orders `from`..`to`: sku a/b/c by id, qty = id % 3 + 1. */
export function orders(from: number, to: number): string {
  const lines = ['id,sku,qty'];
  for (let id = from; id <= to; id++) lines.push(`${id},${'abc'[id % 3]},${(id % 3) + 1}`);
  return `${lines.join('\n')}\n`;
}

export function addFiles(dir: string, files: Readonly<Record<string, string>>): void {
  writeFiles(dir, files);
}

/** Totals per sku the tables should hold, computed from the raw rows (the same rules as the models). */
export const EXPECTED_SALES = `SELECT sku, sum(qty) AS qty, count() AS n FROM raw.shop__orders GROUP BY sku ORDER BY sku`;
export const ACTUAL_SALES = `SELECT sku, sum(qty) AS qty, sum(n) AS n FROM analytics.sales_by_sku GROUP BY sku ORDER BY sku`;
export const EXPECTED_NET = `SELECT sku, sum(q) AS qty FROM (SELECT sku, toInt64(qty) AS q FROM raw.shop__orders UNION ALL SELECT sku, -toInt64(qty) AS q FROM raw.shop__returns) GROUP BY sku ORDER BY sku`;
export const ACTUAL_NET = `SELECT sku, sum(qty) AS qty FROM analytics.net_by_sku GROUP BY sku ORDER BY sku`;
