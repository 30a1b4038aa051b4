import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS, embeddedView, type WarehouseView } from '../helpers/crash-sweep.js';
import { removeProjects, writeFiles } from '../helpers/kiln-cli.js';
import { kilnOk, sweepReported, T1 } from '../helpers/materialization-sweeps.js';
import { mviewProject, orders, SALES_SQL_CHANGED } from '../helpers/mview-project.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Crash-point sweeps of materialized_view models on the embedded engine (issue 15): the first
 * build (table, backfill, two views into it), a staged changed file (views dropped before the
 * replace, model rebuilt after the load) and a redeploy of a changed SELECT (MODIFY QUERY);
 * with KILN_SWEEPS=all also a staged file reaching the table through the views (26 points) and
 * --full-refresh (the first build's statements plus dropping the views and swapping with an
 * existing table, which the table sweeps cover). After every kill the same
 * command runs again and must leave what a clean run leaves: the table's rows (a view's rows are
 * its table's), the views, and each view's query, so a view left on its old SELECT shows up.
 */
afterAll(removeProjects);

const EMBEDDED = '{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }';
const NET = ['--select', 'net_by_sku'];

/** The warehouse's rows plus every materialized view's query. */
async function viewWithQueries(dir: string): Promise<WarehouseView> {
  const path = join(dir, '.kiln/dev');
  const queries = await queryWarehouse<{ name: string; q: string }>(path, "SELECT name, as_select AS q FROM system.tables WHERE engine = 'MaterializedView' ORDER BY name");
  return { ...(await embeddedView(path)), 'materialized view queries': queries.map((r) => `${r.name}: ${r.q}`) };
}

/** Staged orders and returns; with `built`, net_by_sku built on them. */
async function prepared(built: boolean): Promise<string> {
  const dir = mviewProject(EMBEDDED);
  await kilnOk(dir, ['stage']);
  if (built) await kilnOk(dir, ['run', ...NET]);
  return dir;
}

describe('materialized_view', () => {
  it('first build: table, backfill and two views into it', async () => {
    await sweepReported('kiln run (materialized_view, first build)', { prepare: () => prepared(false), args: ['run', ...NET, ...T1], view: viewWithQueries }, 6);
  });

  // 26 crash points: a whole staging of a file; the file loader's own sweeps run by default.
  it.skipIf(!ALL_SWEEPS)('kiln stage of a new file feeds the table through the views exactly once (KILN_SWEEPS=all)', { timeout: 1_500_000 }, async () => {
    await sweepReported(
      'kiln stage (file into a raw table with materialized views)',
      {
        prepare: async () => {
          const dir = await prepared(true);
          writeFiles(dir, { 'data/orders_2.csv': orders(7, 30) });
          return dir;
        },
        args: ['stage', '--select', 'source:shop.orders', ...T1],
        view: viewWithQueries,
      },
      6,
    );
  });

  // A changed file is a replaced partition, which the views do not see: the stage drops the
  // model's views first, then rebuilds it after the load. Killed anywhere, the rerun's table holds
  // the new file's rows once and the old file's not at all.
  it('kiln stage of a changed file rebuilds the model it feeds exactly once', { timeout: 1_500_000 }, async () => {
    await sweepReported(
      'kiln stage (changed file under a materialized view: views dropped, model rebuilt)',
      {
        prepare: async () => {
          const dir = await prepared(true);
          writeFiles(dir, { 'data/returns_1.csv': 'id,sku,qty\n1,a,5\n2,c,2\n' });
          return dir;
        },
        args: ['stage', '--select', 'source:shop.returns', ...T1],
        view: viewWithQueries,
        // 38 statements: every second one by default (each point a crash and a rerun of a whole
        // stage plus rebuild), all of them with KILN_SWEEPS=all.
        stride: 2,
      },
      8,
    );
  });

  it('redeploy of a changed SELECT (MODIFY QUERY)', async () => {
    await sweepReported(
      'kiln run (materialized_view, changed SELECT)',
      {
        prepare: async () => {
          const dir = mviewProject(EMBEDDED);
          await kilnOk(dir, ['stage']);
          await kilnOk(dir, ['run', '--select', 'sales_by_sku']);
          writeFiles(dir, { 'models/sales_by_sku.sql': SALES_SQL_CHANGED });
          return dir;
        },
        args: ['run', '--select', 'sales_by_sku', ...T1],
        view: viewWithQueries,
      },
      4,
    );
  });

  it.skipIf(!ALL_SWEEPS)('--full-refresh rebuilds table and views (KILN_SWEEPS=all)', async () => {
    await sweepReported(
      'kiln run --full-refresh (materialized_view)',
      { prepare: () => prepared(true), args: ['run', ...NET, '--full-refresh', ...T1], view: viewWithQueries, atomic: ['analytics.net_by_sku'] },
      6,
    );
  });
});
