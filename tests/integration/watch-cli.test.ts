import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, runResults, startKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

afterAll(removeProjects);

const PROJECT = {
  'project.yml': projectYml('wt'),
  'models/a.sql': "{{ config(materialized='table') }}\nSELECT 1 AS x\n",
  'models/b.sql': "{{ config(materialized='table') }}\nSELECT x * 10 AS x FROM {{ ref('a') }}\n",
  'models/c.sql': "{{ config(materialized='table') }}\nSELECT 3 AS y\n",
  'models/schema.yml': 'models:\n  - name: b\n    columns:\n      - name: x\n        data_tests: [not_null]\n',
};

describe('kiln watch', () => {
  it('builds, rebuilds a changed model and its dependants with their tests, survives an error, holds the lock, exits cleanly on SIGINT', async () => {
    const dir = writeProject(PROJECT);
    const lock = join(dir, '.kiln/dev/kiln.lock');
    // The debounce window is ten times the gap between the two quick saves below.
    const watch = startKiln(dir, ['watch', '--debounce', '500']);
    const child = watch.child;
    await watch.waitFor(/Watching for changes/);
    expect(watch.stdout()).toMatch(/OK\s+table model analytics\.c/);

    // A second process on the same embedded warehouse: a clear error, exit 2.
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: child.pid, command: 'kiln watch' });
    const second = await runKiln(dir, ['run']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`target 'dev' is locked by .* pid ${child.pid} \\(kiln watch, since \\d\\d:\\d\\d:\\d\\d\\)`));

    let mark = watch.stdout().length;
    writeFiles(dir, { 'models/a.sql': "{{ config(materialized='table') }}\nSELECT 2 AS x\n" });
    const line = await watch.waitFor(/\[watch\].*\n/, { from: mark });
    expect(line).toMatch(/models\/a\.sql changed → rebuilt a, b · tests 1 passed, 0 failed/);
    expect(line).not.toMatch(/\bc\b.*·/);
    expect([...runResults(dir).keys()].sort()).toEqual(['model.wt.a', 'model.wt.b', 'test.wt.not_null_b_x']);

    // Two saves inside one debounce window (the first one broken) give one rebuild of the last.
    mark = watch.stdout().length;
    writeFiles(dir, { 'models/c.sql': "SELECT y FROM {{ ref('nope') }}\n" });
    await new Promise((r) => setTimeout(r, 50));
    writeFiles(dir, { 'models/c.sql': "{{ config(materialized='table') }}\nSELECT 4 AS y\n" });
    const fixed = await watch.waitFor(/\[watch\].*rebuilt c\b/, { from: mark });
    expect(fixed).toMatch(/models\/c\.sql changed → rebuilt c · no tests/);

    child.kill('SIGINT');
    const exit = await watch.done;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stdout).toMatch(/Stopped watching; warehouse closed/);
    expect(existsSync(lock)).toBe(false);

    const rows = await queryWarehouse<{ a: number; b: number; c: number }>(
      join(dir, '.kiln/dev'),
      'SELECT (SELECT any(x) FROM analytics.a) AS a, (SELECT any(x) FROM analytics.b) AS b, (SELECT any(y) FROM analytics.c) AS c',
    );
    expect(rows.map((r) => [Number(r.a), Number(r.b), Number(r.c)])).toEqual([[2, 20, 4]]);
  });

  it('prints an error for a broken change and keeps watching', async () => {
    const dir = writeProject(PROJECT);
    const watch = startKiln(dir, ['watch', '--debounce', '50']);
    await watch.waitFor(/Watching for changes/);
    writeFiles(dir, { 'models/b.sql': "SELECT x FROM {{ ref('nope') }}\n" });
    await watch.waitFor(/models\/b\.sql: not rebuilt[\s\S]*unknown ref 'nope'/, { stream: 'stderr' });
    const mark = watch.stdout().length;
    writeFiles(dir, { 'models/b.sql': "{{ config(materialized='table') }}\nSELECT x + 5 AS x FROM {{ ref('a') }}\n" });
    await watch.waitFor(/\[watch\] models\/b\.sql changed → rebuilt b · tests 1 passed/, { from: mark });
    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(0);
    const rows = await queryWarehouse<{ x: number }>(join(dir, '.kiln/dev'), 'SELECT x FROM analytics.b');
    expect(rows.map((r) => Number(r.x))).toEqual([6]);
  });
});
