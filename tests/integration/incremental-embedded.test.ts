import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeProjects, runKiln, runResults, startKiln, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';
import {
  asMap,
  expectedAfter,
  expectedRowsAffected,
  incrementalProject,
  initial,
  MODEL_OF,
  schemaChangeProject,
  STRATEGIES,
  type Strategy,
} from '../helpers/incremental-project.js';

afterAll(removeProjects);

const warehouse = (dir: string) => join(dir, '.kiln/dev');
async function ok(p: ReturnType<typeof runKiln>): Promise<void> {
  const r = await p;
  expect(r.code, r.stdout + r.stderr).toBe(0);
}
async function count(dir: string, sql: string): Promise<number> {
  const [row] = await queryWarehouse<{ n: string | number }>(warehouse(dir), sql);
  return Number(row?.n);
}
const vars = (v: Record<string, unknown>) => ['--vars', JSON.stringify(v)];

async function contents(dir: string, model: string): Promise<{ ids: Map<number, number>; rows: number }> {
  const rows = await queryWarehouse<{ id: string; ver: number }>(warehouse(dir), `SELECT id, ver FROM analytics.${model} ORDER BY id`);
  return { ids: asMap(rows), rows: rows.length };
}

// Every test here starts several kiln and query processes, each loading the engine: minutes under load.
describe('incremental models on the embedded engine', { timeout: 120_000 }, () => {
  it('append, insert_overwrite and delete_insert: is_incremental(), {{ this }}, rows_affected, --full-refresh', async () => {
    const dir = writeProject(incrementalProject());
    const first = await runKiln(dir, ['run']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    let state = new Map<Strategy, Map<number, number>>();
    for (const s of STRATEGIES) {
      const r = runResults(dir).get(`model.inc.${MODEL_OF[s]}`)!;
      expect(r.status).toBe('success');
      expect(r.rows_affected).toBe(20);
      expect(r.message).toMatch(/full build/);
      state.set(s, initial(20, 1));
    }

    // Two incremental runs: 10 new source rows at ver 2, then the same data again at ver 3.
    for (const [n, ver] of [[30, 2], [30, 3]] as const) {
      const r = await runKiln(dir, ['run', ...vars({ n, ver })]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const results = runResults(dir);
      const next = new Map<Strategy, Map<number, number>>();
      for (const s of STRATEGIES) {
        const before = state.get(s)!;
        const want = expectedAfter(s, before, n, ver);
        const got = await contents(dir, MODEL_OF[s]);
        expect(got.rows, `${s}: no duplicate rows`).toBe(got.ids.size);
        expect(got.ids, s).toEqual(want);
        expect(results.get(`model.inc.${MODEL_OF[s]}`)!.rows_affected, `${s} rows_affected`).toBe(expectedRowsAffected(s, before, n));
        next.set(s, want);
      }
      state = next;
    }
    // The last run re-read the same 30 source rows: append found nothing new.
    expect(runResults(dir).get('model.inc.inc_append')!.rows_affected).toBe(0);

    const full = await runKiln(dir, ['run', '--full-refresh', ...vars({ n: 25, ver: 4 })]);
    expect(full.code, full.stdout + full.stderr).toBe(0);
    for (const s of STRATEGIES) {
      expect((await contents(dir, MODEL_OF[s])).ids).toEqual(initial(25, 4));
      expect(runResults(dir).get(`model.inc.${MODEL_OF[s]}`)!.rows_affected).toBe(25);
    }
    // Nothing left behind by any run.
    const leftovers = await queryWarehouse(warehouse(dir), "SELECT name FROM system.tables WHERE database = 'analytics' AND name LIKE '\\_\\_kiln%'");
    expect(leftovers).toEqual([]);
  });

  it('on_schema_change: fail stops the model, append_new_columns adds the column, ignore leaves it out', async () => {
    const dir = writeProject(schemaChangeProject());
    await ok(runKiln(dir, ['run']));
    const r = await runKiln(dir, ['run', ...vars({ n: 30, extra: true })]);
    expect(r.code).toBe(1);
    const results = runResults(dir);
    expect(results.get('model.inc.osc_fail')!.status).toBe('error');
    expect(results.get('model.inc.osc_fail')!.message).toMatch(/on_schema_change is 'fail'/);
    expect(results.get('model.inc.osc_fail')!.message).toMatch(/new columns extra/);
    expect(results.get('model.inc.osc_append')!.rows_affected).toBe(10);
    expect(results.get('model.inc.osc_ignore')!.rows_affected).toBe(10);

    const columns = async (t: string) =>
      (await queryWarehouse<{ name: string }>(warehouse(dir), `SELECT name FROM system.columns WHERE database = 'analytics' AND table = '${t}'`)).map((c) => c.name);
    expect(await columns('osc_fail')).toEqual(['id']);
    expect(await count(dir, 'SELECT count() AS n FROM analytics.osc_fail')).toBe(20);
    expect(await columns('osc_append')).toEqual(['id', 'extra']);
    expect(await columns('osc_ignore')).toEqual(['id']);
    // Old rows get the column's default, new rows its value.
    const extra = await queryWarehouse<{ id: string; extra: string }>(warehouse(dir), 'SELECT id, extra FROM analytics.osc_append WHERE id IN (19, 20, 29) ORDER BY id');
    expect(extra.map((e) => [Number(e.id), Number(e.extra)])).toEqual([[19, 0], [20, 40], [29, 58]]);
    expect(await count(dir, 'SELECT count() AS n FROM analytics.osc_ignore')).toBe(30);
    expect(await count(dir, 'SELECT uniqExact(id) AS n FROM analytics.osc_ignore')).toBe(30);
  });

  it('rejects a strategy missing its key at compile, naming file and line, with nothing built', async () => {
    const dir = writeProject({
      ...incrementalProject([]),
      'models/bad.sql': "-- keyed by id\n{{ config(materialized='incremental', incremental_strategy='delete_insert') }}\nSELECT id FROM {{ ref('src') }}\n",
      'models/typo.sql': "{{ config(materialized='incremental', incremental_strategy='delete_insrt', unique_key='id') }}\nSELECT id FROM {{ ref('src') }}\n",
    });
    // Checked before anything is built: exit 2 (invalid project), both errors at once, no run.
    const r = await runKiln(dir, ['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\/bad\.sql:2: incremental_strategy 'delete_insert' needs a unique_key/);
    expect(r.stderr).toMatch(/models\/typo\.sql:1: unknown incremental_strategy 'delete_insrt'\n\s+hint: .*delete_insert/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
  });

  // SIGKILL the kiln process while it works on the new rows, at a few points, then run again: never
  // a duplicate, and after the finishing run never a missing row. Once src is reported built, the
  // incremental model runs, and it cannot finish before its rows have slept (at least 20 × 0.05 s
  // = 1 s), so every kill point below lands inside it however loaded the machine is.
  it.each(STRATEGIES)('%s: killed mid-run and run again, no duplicate and no missing row', async (strategy) => {
    const dir = writeProject(incrementalProject([strategy]));
    const model = MODEL_OF[strategy];
    await ok(runKiln(dir, ['run']));
    const before = initial(20, 1);
    for (const delayMs of [150, 800]) {
      const run = startKiln(dir, ['run', ...vars({ n: 40, ver: 2, slow: 0.05 })]);
      await run.waitFor(/OK +table model analytics\.src\b/, { timeoutMs: 60_000 });
      await new Promise((r) => setTimeout(r, delayMs));
      run.child.kill('SIGKILL');
      const killed = await run.done;
      expect(killed.signal, `killed while running (${delayMs} ms into the model)`).toBe('SIGKILL');
      const mid = await contents(dir, model);
      expect(mid.rows, 'no duplicate after a kill').toBe(mid.ids.size);
    }
    const rerun = await runKiln(dir, ['run', ...vars({ n: 40, ver: 2 })]);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    const got = await contents(dir, model);
    expect(got.rows).toBe(got.ids.size);
    expect([...got.ids.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // Ids the finishing run recomputed carry its version (for append: exactly the new ones).
    if (strategy === 'append') expect(got.ids).toEqual(expectedAfter('append', before, 40, 2));
    const leftovers = await queryWarehouse(warehouse(dir), "SELECT name FROM system.tables WHERE database = 'analytics' AND name LIKE '\\_\\_kiln%'");
    expect(leftovers).toEqual([]);
  });
});
