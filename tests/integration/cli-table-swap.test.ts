import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allOutput,
  projectYml,
  removeProjects,
  runKiln,
  runResults,
  STACK_FRAME,
  startKiln,
  writeFiles,
  writeProject,
} from '../helpers/kiln-cli.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/** Atomic table rebuilds on the embedded engine: swap, failed rebuilds, leftovers of killed runs. */
afterAll(removeProjects);

const table = (rows: number) => `{{ config(materialized='table', order_by='id') }}SELECT toUInt32(number) AS id FROM numbers(${rows})`;

function project(extra: Record<string, string> = {}) {
  return writeProject({
    'project.yml': projectYml('swap'),
    'models/t.sql': table(3),
    'models/reader.sql': "SELECT count() AS n, max(id) AS top FROM {{ ref('t') }}",
    ...extra,
  });
}

const ids = async (wh: string) => (await queryWarehouse<{ id: number }>(wh, 'SELECT id FROM analytics.t ORDER BY id')).map((r) => Number(r.id));
const leftovers = async (wh: string) => (await relationNames(wh, 'analytics')).filter((n) => n.startsWith('__kiln_'));

describe('table rebuilds', () => {
  it('a rebuilt table is swapped in: readers (a view over it) keep working and see the new rows', async () => {
    const dir = project();
    const wh = join(dir, '.kiln/dev');
    expect((await runKiln(dir, ['run'])).code).toBe(0);
    expect(await queryWarehouse(wh, 'SELECT toString(n) AS n FROM analytics.reader')).toEqual([{ n: '3' }]);

    writeFiles(dir, { 'models/t.sql': table(5) });
    const r = await runKiln(dir, ['run', '--select', 't']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/1 of 1 OK +table model analytics\.t \.+ \[5 rows, /);
    expect(await ids(wh)).toEqual([0, 1, 2, 3, 4]);
    expect(await queryWarehouse(wh, 'SELECT toString(n) AS n FROM analytics.reader')).toEqual([{ n: '5' }]);
    expect(await leftovers(wh)).toEqual([]);
  });

  it('a failed rebuild leaves the old table and its rows, no temp tables, and skips downstream', async () => {
    const dir = project({ 'models/after_reader.sql': "SELECT * FROM {{ ref('reader') }}" });
    const wh = join(dir, '.kiln/dev');
    expect((await runKiln(dir, ['run'])).code).toBe(0);

    // ClickHouse fails this mid-insert, after CREATE TABLE … AS SELECT has created the table
    writeFiles(dir, {
      'models/t.sql': "{{ config(materialized='table') }}\nSELECT toUInt32(number) AS id, throwIf(number = 50000, 'boom at row 50000') AS x\nFROM numbers(100000)",
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/1 of 3 ERROR +table model analytics\.t /);
    expect(r.stdout).toMatch(/^ {6}models\/t\.sql: .*boom at row 50000/m);
    expect(r.stdout).toMatch(/^ {8}compiled SQL: target\/compiled\/models\/t\.sql$/m);
    expect(r.stdout).toMatch(/SKIP +view model analytics\.reader/);
    expect(r.stdout).toMatch(/SKIP +view model analytics\.after_reader/);
    expect(r.stdout).toMatch(/Finished 3 nodes in \d+\.\d\ds: 1 errored, 2 skipped$/m);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);

    const results = runResults(dir);
    expect(results.get('model.swap.t')).toMatchObject({ status: 'error' });
    expect(results.get('model.swap.t')!.message).toContain('compiled SQL: target/compiled/models/t.sql');
    expect(results.get('model.swap.reader')).toMatchObject({ status: 'skipped', message: 'skipped: upstream model.swap.t did not succeed' });
    expect(results.get('model.swap.after_reader')!.status).toBe('skipped');
    expect(readFileSync(join(dir, 'target/compiled/models/t.sql'), 'utf8')).toContain("throwIf(number = 50000, 'boom at row 50000')");

    expect(await ids(wh)).toEqual([0, 1, 2]);
    expect(await leftovers(wh)).toEqual([]);
  });

  it('temp tables left by a killed run are dropped by the next run', async () => {
    const dir = project();
    const wh = join(dir, '.kiln/dev');
    expect((await runKiln(dir, ['run'])).code).toBe(0);
    for (const name of ['__kiln_tmp__t__deadbeef0001', '__kiln_old__t__deadbeef0002', '__kiln_tmp__reader__deadbeef0003']) {
      await queryWarehouse(wh, `CREATE TABLE analytics.${name} ENGINE = MergeTree ORDER BY tuple() AS SELECT 1 AS x`);
    }
    // not ours: a table that merely looks similar stays
    await queryWarehouse(wh, 'CREATE TABLE analytics.__kiln_tmp__unrelated__x ENGINE = Log AS SELECT 1 AS x');
    expect(await leftovers(wh)).toHaveLength(4);

    const r = await runKiln(dir, ['run']);
    expect(r.code).toBe(0);
    expect(await leftovers(wh)).toEqual(['__kiln_tmp__unrelated__x']);
    expect(await ids(wh)).toEqual([0, 1, 2]);
  });

  it('a run killed with SIGKILL mid-build is recovered by the next run (stale lock, leftovers)', async () => {
    const dir = project({
      // last in the DAG; slow only when asked: 12 one-row blocks sleeping 0.4 s each
      'models/z_slow.sql':
        "{{ config(materialized='table') }}SELECT number AS id, sleepEachRow({{ var('nap', 0) }}) AS s FROM numbers(12)\nWHERE (SELECT count() FROM {{ ref('reader') }}) > 0 SETTINGS max_block_size = 1",
    });
    const wh = join(dir, '.kiln/dev');
    const slow = startKiln(dir, ['run', '--threads', '1', '--vars', '{nap: 0.4}']);
    // t and reader are done: z_slow is building now
    await slow.waitFor(/2 of 3 OK/);
    await new Promise((r) => setTimeout(r, 1500));
    slow.child.kill('SIGKILL');
    const killed = await slow.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(join(wh, 'kiln.lock'))).toBe(true);

    const r = await runKiln(dir, ['run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await leftovers(wh)).toEqual([]);
    expect(await queryWarehouse(wh, 'SELECT toString(count()) AS n FROM analytics.z_slow')).toEqual([{ n: '12' }]);
    expect(existsSync(join(wh, 'kiln.lock'))).toBe(false);
  });
});

// --no-validate below: validation would stop a_bad before anything runs; these are run-time errors.
describe('--fail-fast and --threads', () => {
  const files = {
    'project.yml': projectYml('ff'),
    'models/a_bad.sql': 'SELECT no_such_column',
    'models/b_ok.sql': 'SELECT 1 AS x',
    'models/c_ok.sql': 'SELECT 2 AS x',
  };

  it('without --fail-fast independent models still run after an error', async () => {
    const dir = writeProject(files);
    const r = await runKiln(dir, ['run', '--threads', '1', '--no-validate']);
    expect(r.code).toBe(1);
    const results = runResults(dir);
    expect([results.get('model.ff.a_bad')!.status, results.get('model.ff.b_ok')!.status, results.get('model.ff.c_ok')!.status]).toEqual(['error', 'success', 'success']);
  });

  it('--fail-fast starts nothing after the first error', async () => {
    const dir = writeProject(files);
    const r = await runKiln(dir, ['run', '--threads', '1', '--fail-fast', '--no-validate']);
    expect(r.code).toBe(1);
    const results = runResults(dir);
    expect(results.get('model.ff.a_bad')!.status).toBe('error');
    expect(results.get('model.ff.b_ok')).toMatchObject({ status: 'skipped', message: 'skipped: --fail-fast stopped the run' });
    expect(results.get('model.ff.c_ok')!.status).toBe('skipped');
    expect(r.stdout).toMatch(/Finished 3 nodes in \d+\.\d\ds: 1 errored, 2 skipped$/m);
  });

  it('--threads N dispatches up to N independent models at once', async () => {
    const dir = writeProject({ 'project.yml': projectYml('th'), ...Object.fromEntries(['a', 'b', 'c', 'd'].map((n) => [`models/${n}.sql`, `SELECT '${n}' AS x`])) });
    const threadsUsed = async (n: number) => {
      const r = await runKiln(dir, ['run', '--threads', String(n)]);
      expect(r.code).toBe(0);
      return new Set([...runResults(dir).values()].map((x) => x.thread_id));
    };
    expect(await threadsUsed(1)).toEqual(new Set(['Thread-1']));
    expect(await threadsUsed(2)).toEqual(new Set(['Thread-1', 'Thread-2']));
    expect((await threadsUsed(4)).size).toBe(4);
  });

  it('--threads must be a positive integer', async () => {
    const dir = writeProject(files);
    const r = await runKiln(dir, ['run', '--threads', 'zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: --threads must be a positive integer, got 'zero'\n");
  });
});
