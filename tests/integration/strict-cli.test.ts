import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, projectYml, removeProjects, runKiln, runResults, STACK_FRAME, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

/**
 * Strict mode through the real CLI (issue 12): a misspelled key is a warning with file:line and
 * the key it meant; `--strict`, `strict: true` in project.yml or `CI=true` make every such
 * warning an error, all printed at once, exit 2 before anything runs.
 */
afterAll(removeProjects);

const files = (projectExtra = ''): ProjectFiles => ({
  'project.yml': projectYml('strict', projectExtra),
  'data/orders.csv': 'id,amount\n1,10\n2,x\n',
  'sources.yml': `sources:
  - name: shop
    loader: csv
    tables:
      - name: orders
        path: data/orders.csv
        max_rejectd: 0
`,
  'models/m.sql': "SELECT id FROM {{ source('shop', 'orders') }}",
  'models/schema.yml': `models:
  - name: m
    columns:
      - name: id
        data_test: [not_null]
`,
});

const WARNINGS = [
  "warning: sources.yml:7: unknown key 'max_rejectd' in source table (ignored) (did you mean 'max_rejected'?)",
  "warning: models/schema.yml:5: unknown key 'data_test' in column (ignored) (did you mean 'data_tests'?)",
];

const ERRORS = (reason: string) => [
  "error: sources.yml:7: unknown key 'max_rejectd' in source table",
  `  hint: did you mean 'max_rejected'? (an error under ${reason})`,
  "error: models/schema.yml:5: unknown key 'data_test' in column",
  `  hint: did you mean 'data_tests'? (an error under ${reason})`,
];

describe('strict mode through the CLI', () => {
  it('without it, misspelled keys warn with file:line and the build goes on', async () => {
    const dir = writeProject(files());
    const r = await runKiln(dir, ['compile']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual(WARNINGS);
  });

  for (const [how, project, args, env, reason] of [
    ['--strict', '', ['build', '--strict'], {}, '--strict'],
    ['strict: true in project.yml', 'strict: true\n', ['build'], {}, 'strict: true in project.yml'],
    ['CI=true in the environment', '', ['build'], { CI: 'true' }, 'CI=true'],
  ] as const) {
    it(`${how}: every one is an error, exit 2, nothing runs`, async () => {
      const dir = writeProject(files(project));
      const r = await runKiln(dir, args, { env });
      expect(r.code, allOutput(r)).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toEqual(ERRORS(reason));
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
      expect(existsSync(join(dir, '.kiln'))).toBe(false);
      expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
    });
  }

  it('a compile kept from an earlier non-strict one does not skip the check', async () => {
    const dir = writeProject(files());
    const first = await runKiln(dir, ['compile']);
    expect(first.code, allOutput(first)).toBe(0);
    const strict = await runKiln(dir, ['compile', '--strict']);
    expect(strict.code, allOutput(strict)).toBe(2);
    expect(strict.stderr.trimEnd().split('\n')).toEqual(ERRORS('--strict'));
    const ci = await runKiln(dir, ['compile'], { env: { CI: 'true' } });
    expect(ci.code, allOutput(ci)).toBe(2);
  });

  it('strict: false in project.yml keeps them warnings under CI=true', async () => {
    const dir = writeProject(files('strict: false\n'));
    const r = await runKiln(dir, ['compile'], { env: { CI: 'true' } });
    expect(r.code, allOutput(r)).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual(WARNINGS);
  });

  it('loader: jsnl is exit 2 at compile', async () => {
    const dir = writeProject({
      'project.yml': projectYml('strict'),
      'sources.yml': 'sources:\n  - name: ev\n    loader: jsnl\n    tables: [{ name: e, path: e.jsonl }]\n',
    });
    const r = await runKiln(dir, ['compile']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toBe("error: sources.yml:3: source 'ev': unknown loader 'jsnl'\n  hint: did you mean 'jsonl'?\n");
  });
});

describe('YAML column names in test SQL', () => {
  it('a column named with a space or a reserved word passes not_null and unique', async () => {
    const dir = writeProject({
      'project.yml': projectYml('quoting'),
      'models/m.sql': 'SELECT number AS `order date`, number AS `select` FROM system.numbers LIMIT 3',
      'models/schema.yml': `models:
  - name: m
    columns:
      - name: order date
        data_tests: [not_null, unique]
      - name: select
        data_tests: [not_null, { accepted_range: { min_value: 0, max_value: 2 } }]
`,
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(0);
    const tests = [...runResults(dir).values()].filter((t) => t.unique_id.startsWith('test.'));
    expect(tests.map((t) => t.status)).toEqual(['pass', 'pass', 'pass', 'pass']);
  });

  it('a column name that tries to rewrite the condition stays one identifier: the NULL is not hidden', async () => {
    // Pasted as written, not_null on this "column" reads `WHERE a IS NULL AND 0 = 1 AND a IS NULL`: no rows, a pass.
    const dir = writeProject({
      'project.yml': projectYml('quoting'),
      'models/m.sql': 'SELECT CAST(NULL AS Nullable(UInt8)) AS a',
      'models/schema.yml': 'models:\n  - name: m\n    columns:\n      - name: a IS NULL AND 0 = 1 AND a\n        data_tests: [not_null]\n',
    });
    // Validation stops it before anything runs, the name still one identifier…
    const checked = await runKiln(dir, ['build']);
    expect(checked.code, allOutput(checked)).toBe(2);
    expect(checked.stderr).toContain('Unknown expression identifier `a IS NULL AND 0 = 1 AND a`');
    // …and at run time the test errors on it rather than passing.
    const r = await runKiln(dir, ['build', '--no-validate']);
    expect(r.code, allOutput(r)).toBe(1);
    const test = [...runResults(dir).values()].find((t) => t.unique_id.startsWith('test.'))!;
    expect(test.status).toBe('error');
    expect(test.message).toMatch(/a IS NULL AND 0 = 1 AND a/);
  });
});
