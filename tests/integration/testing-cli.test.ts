import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  allOutput,
  projectYml,
  readJson,
  removeProjects,
  runKiln,
  runResults,
  STACK_FRAME,
  writeFiles,
  writeProject,
  type ProjectFiles,
} from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

afterAll(removeProjects);

/** A small review pipeline: staging view → fact table → a downstream view, with tests on each. */
const PROJECT: ProjectFiles = {
  'project.yml': projectYml('proj', 'vars: { min_rating: 0 }\n'),
  'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\n',
  'models/stg_reviews.sql':
    "SELECT * FROM (SELECT 1 AS review_id, 7 AS user_id, 'FR' AS country, 8.5 AS rating UNION ALL SELECT 2, 7, 'XX', 9 UNION ALL SELECT 3, 8, 'DE', CAST(NULL AS Nullable(Float64)))",
  'models/fct_reviews.sql':
    "{{ config(materialized='table') }}\nSELECT review_id, user_id, country, rating FROM {{ ref('stg_reviews') }}\nWHERE rating IS NOT NULL AND rating >= {{ var('min_rating') }}\n{% if is_incremental() %}AND review_id > 100{% endif %}",
  'models/user_stats.sql': "SELECT user_id, count() AS reviews FROM {{ ref('fct_reviews') }} GROUP BY user_id",
  'models/schema.yml': `models:
  - name: stg_reviews
    columns:
      - name: review_id
        data_tests: [unique, not_null]
      - name: country
        data_tests:
          - relationships: { to: "ref('countries')", field: code, config: { severity: warn } }
  - name: fct_reviews
    columns:
      - name: rating
        data_tests:
          - accepted_range: { min_value: 0, max_value: 9, inclusive: false, config: { store_failures: true } }
unit_tests:
  - name: drops_null_ratings
    model: fct_reviews
    given:
      - input: ref('stg_reviews')
        rows:
          - { review_id: 1, rating: 8 }
          - { review_id: 2 }
          - { review_id: 3, rating: -1 }
    expect:
      rows:
        - { review_id: 1, user_id: 0, rating: 8 }
  - name: var_and_incremental_overrides
    model: fct_reviews
    overrides:
      vars: { min_rating: 5 }
      macros: { is_incremental: true }
    given:
      - input: ref('stg_reviews')
        format: csv
        rows: |
          review_id,rating
          101,6
          102,4
          5,9
    expect:
      rows: [{ review_id: 101 }]
`,
  'tests/data/one_review_per_user_country.sql':
    "SELECT user_id, country FROM {{ ref('fct_reviews') }} GROUP BY user_id, country HAVING count() > 5",
};

describe('kiln build: tests gate what is downstream', () => {
  const dir = writeProject(PROJECT);
  const junit = join(dir, 'out/junit.xml');
  let result: Awaited<ReturnType<typeof runKiln>>;

  it('exits 1 when an error-severity test fails, skips downstream, never blocks on warnings', async () => {
    result = await runKiln(dir, ['build', '--junit', junit], { env: { GITHUB_ACTIONS: 'true' } });
    expect(result.code, allOutput(result)).toBe(1);
    const r = runResults(dir);
    expect(r.get('model.proj.stg_reviews')!.status).toBe('success');
    expect(r.get('test.proj.unique_stg_reviews_review_id')!.status).toBe('pass');
    expect(r.get('test.proj.relationships_stg_reviews_country__code__ref_countries_')).toMatchObject({ status: 'warn', failures: 1 });
    expect(r.get('unit_test.proj.fct_reviews.drops_null_ratings')!.status).toBe('pass');
    expect(r.get('unit_test.proj.fct_reviews.var_and_incremental_overrides')!.status).toBe('pass');
    expect(r.get('model.proj.fct_reviews')!.status).toBe('success'); // the warning did not block it
    expect(r.get('test.proj.accepted_range_fct_reviews_rating__False__9__0')).toMatchObject({ status: 'fail', failures: 1 });
    expect(r.get('model.proj.user_stats')!.status).toBe('skipped');
    // The singular test reads only fct_reviews: it still runs (a test never waits for a sibling test).
    expect(r.get('test.proj.one_review_per_user_country')!.status).toBe('pass');
    expect(STACK_FRAME.test(allOutput(result))).toBe(false);
  });

  it('prints the failing test as file:line, a GitHub annotation and a summary table', () => {
    expect(result.stdout).toContain(
      'models/schema.yml:13: accepted_range_fct_reviews_rating__False__9__0: got 1 failing row, configured to fail if != 0',
    );
    expect(result.stdout).toMatch(/^::error file=models\/schema\.yml,line=13::test\.proj\.accepted_range_fct_reviews_rating__False__9__0: /m);
    expect(result.stdout).not.toMatch(/^::error .*relationships/m);
    expect(result.stdout).toMatch(/passed\s+warned\s+failed\s+errored\s+skipped/);
    expect(result.stdout).toMatch(/data tests\s+3\s+1\s+1\s+0\s+0/);
    expect(result.stdout).toMatch(/unit tests\s+2\s+0\s+0\s+0\s+0/);
  });

  it('keeps failing rows in <database>_test_failures with store_failures', async () => {
    const rows = await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT rating FROM analytics_test_failures.accepted_range_fct_reviews_rating__False__9__0');
    expect(rows).toEqual([{ rating: 9 }]);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), "SELECT name FROM system.databases WHERE name LIKE '__kiln_unit%'")).toEqual([]);
  });

  it('writes JUnit XML with one suite per resource type and the failing test', () => {
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('<testsuite name="data tests" tests="5" failures="1" errors="0" skipped="0"');
    expect(xml).toContain('<testsuite name="unit tests" tests="2"');
    expect(xml).toContain('<testsuite name="models" tests="3" failures="0" errors="0" skipped="1"');
    expect(xml).toContain('<failure type="fail" message="1 failing row">');
    expect(xml).toContain('target/compiled/models/schema.yml/accepted_range_fct_reviews_rating__False__9__0.sql');
  });

  it('kiln test --select runs the tests attached to a node, and exits 0 when they pass', async () => {
    const r = await runKiln(dir, ['test', '--select', 'stg_reviews']);
    expect(r.code, allOutput(r)).toBe(0);
    const ids = [...runResults(dir).keys()].sort();
    // Unit tests belong to the model they test (fct_reviews), not to its inputs.
    expect(ids).toEqual([
      'test.proj.not_null_stg_reviews_review_id',
      'test.proj.relationships_stg_reviews_country__code__ref_countries_',
      'test.proj.unique_stg_reviews_review_id',
    ]);
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['test.proj.unique_stg_reviews_review_id']).toMatchObject({ resource_type: 'test', attached_node: 'model.proj.stg_reviews', column_name: 'review_id' });
  });

  it('--fail-fast stops starting new work after the first failure', async () => {
    const r = await runKiln(dir, ['build', '--fail-fast', '--threads', '1']);
    expect(r.code).toBe(1);
    const statuses = [...runResults(dir).values()].map((x) => x.status);
    expect(statuses.filter((s) => s === 'fail')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'skipped').length).toBeGreaterThan(1);
  });
});

describe('unit test failures and bad fixtures', () => {
  it('prints a readable diff of expected and actual rows', async () => {
    const dir = writeProject(PROJECT);
    expect((await runKiln(dir, ['build', '--select', 'stg_reviews countries'])).code).toBe(0);
    writeFiles(dir, { 'models/schema.yml': PROJECT['models/schema.yml']!.replace('- { review_id: 1, user_id: 0, rating: 8 }', '- { review_id: 1, user_id: 0, rating: 7 }') });
    const r = await runKiln(dir, ['test', '--select', 'test_type:unit']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(runResults(dir).get('unit_test.proj.fct_reviews.drops_null_ratings')).toMatchObject({ status: 'fail', failures: 2 });
    expect(r.stdout).toContain("models/schema.yml:15: unit test 'drops_null_ratings' of model 'fct_reviews': actual rows differ from expect");
    expect(r.stdout).toContain('expected 1 row, got 1: 1 expected row missing (-), 1 unexpected (+)');
    expect(r.stdout).toMatch(/\| review_id \| user_id \| rating\n\s+- \| 1\s+\| 0\s+\| 7\n\s+\+ \| 1\s+\| 0\s+\| 8/);
  });

  it('a fixture value that does not fit its column names the row, its line and the column types', async () => {
    const dir = writeProject({
      ...PROJECT,
      'models/schema.yml': PROJECT['models/schema.yml']!.replace('- { review_id: 2 }', '- { review_id: 2, rating: "lots" }'),
    });
    expect((await runKiln(dir, ['build', '--select', 'stg_reviews countries'])).code).toBe(0);
    const r = await runKiln(dir, ['test', '--select', 'test_type:unit']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/models\/schema\.yml:21: unit test 'drops_null_ratings': row 2 of ref\('stg_reviews'\) does not fit the column types: /);
    expect(r.stdout).toContain('rating Nullable(Float64)');
    expect(STACK_FRAME.test(allOutput(r))).toBe(false);
  });

  it('a test on a column the model does not return fails with the ClickHouse error at the test', async () => {
    const dir = writeProject({
      ...PROJECT,
      'models/schema.yml': 'models:\n  - name: stg_reviews\n    columns:\n      - name: reviewer\n        data_tests: [not_null]\n',
    });
    // Validation finds it before anything runs, at the test's declaration…
    const checked = await runKiln(dir, ['build']);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toMatch(/^error: models\/schema\.yml:5: test 'not_null_stg_reviews_reviewer' would fail on target 'dev': .*reviewer/m);
    // …and without it the test errors at run time, its dependants skipped.
    const r = await runKiln(dir, ['build', '--no-validate']);
    expect(r.code).toBe(1);
    const entry = runResults(dir).get('test.proj.not_null_stg_reviews_reviewer')!;
    expect(entry.status).toBe('error');
    expect(entry.message).toMatch(/^models\/schema\.yml:5: test 'not_null_stg_reviews_reviewer': .*reviewer/);
    expect(runResults(dir).get('model.proj.fct_reviews')!.status).toBe('skipped');
  });

  it('invalid test declarations exit 2 before anything runs', async () => {
    const dir = writeProject({
      ...PROJECT,
      'models/schema.yml': `models:
  - name: stg_reviews
    columns:
      - name: review_id
        data_tests: [uniq]
unit_tests:
  - name: nope
    model: fct_review
    given: []
    expect: { rows: [] }
`,
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("models/schema.yml:5: unknown generic test 'uniq' on column 'review_id' of model 'stg_reviews'\n  hint: did you mean 'unique'?");
    expect(r.stderr).toContain("models/schema.yml:7: unit test 'nope' is for model 'fct_review', which does not exist\n  hint: did you mean 'fct_reviews'?");
    expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
    expect(existsSync(join(dir, '.kiln'))).toBe(false);
  });
});

describe('kiln test: a unit test reads fixture rows in place of a source', () => {
  // The model quotes its source's relation in a string literal: only source() itself may change.
  const dir = writeProject({
    'project.yml': projectYml(),
    'sources.yml': `sources:
  - name: app
    tables:
      - name: events
        columns:
          - { name: id, data_type: UInt32 }
          - { name: kind, data_type: String }
`,
    'models/signals.sql': "SELECT id, kind, '`raw`.`app__events`' AS read_from FROM {{ source('app', 'events') }} WHERE kind != 'noise'",
    'models/schema.yml': `unit_tests:
  - name: drops_noise
    model: signals
    given:
      - input: source('app', 'events')
        rows: [{ id: 1, kind: click }, { id: 2, kind: noise }]
    expect:
      rows: [{ id: 1, kind: click, read_from: '\`raw\`.\`app__events\`' }]
`,
  });

  it('passes, with the literal left alone', async () => {
    const result = await runKiln(dir, ['test']);
    expect(result.code, allOutput(result)).toBe(0);
    expect(runResults(dir).get('unit_test.proj.signals.drops_noise')!.status).toBe('pass');
  });
});
