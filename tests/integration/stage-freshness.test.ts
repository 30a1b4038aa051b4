import { afterAll, expect, it } from 'vitest';
import { allOutput, readJson, removeProjects, runKiln } from '../helpers/kiln-cli.js';
import { stageProject } from '../helpers/stage-project.js';

afterAll(removeProjects);

it('kiln freshness: pass, warn (exit 0) and error (exit 1) from loaded_at_field or the last load', async () => {
  const recent = new Date(Date.now() - 2 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const dir = stageProject(
    `sources:
  - name: ev
    loader: jsonl
    loaded_at_field: ts
    tables:
      - name: old
        path: old.jsonl
        columns: [{ name: ts, type: "DateTime('UTC')" }]
        freshness: { warn_after: { count: 1, period: day }, error_after: { count: 30, period: day } }
      - name: warm
        path: warm.jsonl
        columns: [{ name: ts, type: "DateTime('UTC')" }]
        freshness: { warn_after: { count: 1, period: hour } }
      - name: fresh
        path: warm.jsonl
        loaded_at_field: null
        columns: [{ name: ts, type: "DateTime('UTC')" }]
        freshness: { error_after: { count: 1, period: hour } }
`,
    { 'old.jsonl': '{"ts":"2020-01-01T00:00:00Z"}\n', 'warm.jsonl': `{"ts":"${recent}"}\n` },
  );
  expect((await runKiln(dir, ['stage'])).code).toBe(0);
  const warnOnly = await runKiln(dir, ['freshness', '--select', 'source:ev.warm source:ev.fresh']);
  expect(warnOnly.code).toBe(0);
  expect(allOutput(warnOnly)).toMatch(/ev\.warm: newest data is 2\.0 hours old, more than warn_after 1 hour/);
  const all = await runKiln(dir, ['freshness']);
  expect(all.code).toBe(1);
  expect(allOutput(all)).toMatch(/ev\.old: newest data 2020-01-01T00:00:00\.000Z is [\d.]+ days old, more than error_after 30 days/);
  // run_results: dbt's statuses for freshness.
  const results = readJson<{ results: Array<{ unique_id: string; status: string }> }>(dir, 'target/run_results.json');
  expect(Object.fromEntries(results.results.map((r) => [r.unique_id, r.status]))).toEqual({
    'source.staged.ev.old': 'error',
    'source.staged.ev.warm': 'warn',
    'source.staged.ev.fresh': 'pass',
  });
});
