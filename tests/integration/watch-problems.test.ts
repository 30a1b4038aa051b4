import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { projectYml, removeProjects, startKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

describe('kiln watch shows what went wrong in a rebuild, as build does', () => {
  it('prints the SQL error of a model and the failing test with its message', async () => {
    const dir = writeProject({
      'project.yml': projectYml('wp'),
      'models/a.sql': "{{ config(materialized='table') }}\nSELECT 1 AS x\n",
      'models/b.sql': "{{ config(materialized='table') }}\nSELECT x FROM {{ ref('a') }}\n",
      'models/schema.yml': 'models:\n  - name: b\n    columns:\n      - name: x\n        data_tests: [not_null]\n',
    });
    const watch = startKiln(dir, ['watch', '--debounce', '50']);
    // A failed expectation must not leave the watcher running.
    onTestFinished(() => {
      if (watch.child.exitCode === null && watch.child.signalCode === null) watch.child.kill('SIGKILL');
    });
    await watch.waitFor(/Watching for changes/);

    // Validation before any change catches the broken edit: its error on the model's own line, nothing rebuilt.
    const mark = watch.stderr().length;
    writeFiles(dir, { 'models/b.sql': "{{ config(materialized='table') }}\nSELECT no_such_column FROM {{ ref('a') }}\n" });
    const broken = await watch.waitFor(/hint: .*\n/, { stream: 'stderr', from: mark });
    expect(broken).toMatch(/^error: models\/b\.sql: not rebuilt$/m);
    expect(broken).toMatch(/^models\/b\.sql:2:8: model 'b' would fail on target 'dev': .*no_such_column.* in scope SELECT no_such_column FROM analytics\.a\b/m);

    const mark2 = watch.stdout().length;

    writeFiles(dir, { 'models/b.sql': "{{ config(materialized='table') }}\nSELECT CAST(NULL AS Nullable(Int32)) AS x FROM {{ ref('a') }}\n" });
    const failing = await watch.waitFor(/\[watch\].*\n/, { from: mark2 });
    expect(failing).toMatch(/FAIL\s+.*not_null_b_x/);
    expect(failing).toMatch(/tests 0 passed, 1 failed/);
    // Nodes that succeeded stay out of the way: one line per rebuild besides the problems.
    expect(failing).not.toMatch(/OK\s+table model/);

    watch.child.kill('SIGINT');
    expect((await watch.done).code).toBe(0);
  });
});
