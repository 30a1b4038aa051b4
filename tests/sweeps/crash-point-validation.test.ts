import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crashSweep, embeddedView, reportSweep, type WarehouseView } from '../helpers/crash-sweep.js';
import { projectYml, removeProjects, runKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Validation before any change (issue 16) only writes its shadow database: killed between any
 * two of its statements, the warehouse keeps its relations and rows, and the next command that
 * validates drops the shadow the killed one left. The other sweeps pass --no-validate so their
 * points are their commands' own; this one sweeps validation itself, on a warehouse already
 * built (stand-ins from existing relations, an incremental model's is_incremental branch).
 */
afterAll(removeProjects);

const project = async (): Promise<string> => {
  const dir = writeProject({
    'project.yml': projectYml('sweep', 'test-paths: [tests]\n'),
    'data/orders.csv': 'id,customer,amount\n1,ann,10\n2,bob,20\n',
    'seeds/regions.csv': 'code,name\nEU,Europe\n',
    'sources.yml': 'sources:\n  - name: shop\n    loader: csv\n    tables:\n      - name: orders\n        path: data/orders.csv\n',
    'models/stg_orders.sql': "SELECT toUInt32(id) AS order_id, customer, toFloat64(amount) AS amount FROM {{ source('shop', 'orders') }}\n",
    'models/orders_inc.sql':
      "{{ config(materialized='incremental', unique_key='order_id', order_by='order_id') }}\nSELECT order_id, amount FROM {{ ref('stg_orders') }}\n{% if is_incremental() %}WHERE order_id > (SELECT max(order_id) FROM {{ this }}){% endif %}\n",
    'models/customers.sql': "{{ config(materialized='table', order_by='customer') }}\nSELECT customer, sum(amount) AS total FROM {{ ref('stg_orders') }} GROUP BY customer\n",
    'models/schema.yml': 'models:\n  - name: customers\n    columns:\n      - name: customer\n        data_tests: [unique]\n',
  });
  const built = await runKiln(dir, ['build']);
  if (built.code !== 0) throw new Error(built.stderr);
  writeFiles(dir, { 'data/orders.csv': 'id,customer,amount\n1,ann,10\n2,bob,20\n3,cy,5\n' });
  return dir;
};

/** Tables and rows, plus every database's name: an empty shadow left behind shows up too. */
async function view(dir: string): Promise<WarehouseView> {
  const path = join(dir, '.kiln/dev');
  const databases = await queryWarehouse<{ name: string }>(path, "SELECT name FROM system.databases WHERE name NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema', 'default') ORDER BY name");
  return { ...(await embeddedView(path)), '(databases)': databases.map((d) => d.name) };
}

describe('crash points of validation', () => {
  it('kiln compile --validate: each crash leaves the warehouse as it was once the next validation has run', async () => {
    const sweep = await crashSweep({ prepare: project, args: ['compile', '--validate'], view });
    reportSweep('kiln compile --validate', sweep, 8);
  });
});
