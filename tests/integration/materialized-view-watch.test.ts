import { afterAll, describe, expect, it } from 'vitest';
import { removeProjects, runResults, startKiln, writeFiles } from '../helpers/kiln-cli.js';
import { ACTUAL_NET, ACTUAL_SALES, EXPECTED_NET, EXPECTED_SALES, mviewProject, orders } from '../helpers/mview-project.js';
import { queryWarehouse } from '../helpers/warehouse.js';

afterAll(removeProjects);

describe('kiln watch with materialized views', () => {
  it('a new data file reaches the tables through their views; the models themselves are unchanged no-ops', async () => {
    const dir = mviewProject('{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }');
    const watch = startKiln(dir, ['watch', '--debounce', '300']);
    await watch.waitFor(/Watching for changes/, { timeoutMs: 120_000 });
    const mark = watch.stdout().length;
    writeFiles(dir, { 'data/orders_2.csv': orders(7, 40) });
    await watch.waitFor(/\[watch\].*\n/, { from: mark, timeoutMs: 120_000 });
    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(0);
    expect(runResults(dir).get('model.mv.sales_by_sku')?.message).toBe('materialized view analytics.sales_by_sku unchanged');
    const q = (sql: string) => queryWarehouse(`${dir}/.kiln/dev`, sql);
    expect(await q('SELECT count() AS n FROM raw.shop__orders')).toEqual([{ n: 40 }]);
    expect(await q(ACTUAL_SALES)).toEqual(await q(EXPECTED_SALES));
    expect(await q(ACTUAL_NET)).toEqual(await q(EXPECTED_NET));
  });
});
