import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/**
 * dbt and dbt-clickhouse spellings dbt projects rely on, on the embedded engine: `query_settings`
 * on a model, `adapter.drop_relation` in a hook, a test macro's `config(fail_calc=…)`.
 */
afterAll(removeProjects);

const DBT_PROJECT = 'name: shop\nprofile: shop\nconfig-version: 2\n';

describe('query_settings (dbt-clickhouse)', () => {
  it('are the SETTINGS of a table’s and an incremental’s SELECT; on a view they are ignored with a warning', async () => {
    const dir = writeProject({
      'dbt_project.yml': DBT_PROJECT,
      'models/t.sql': "{{ config(materialized='table', query_settings={'max_threads': 3}) }}\nselect getSetting('max_threads') as v\n",
      'models/i.sql': "{{ config(materialized='incremental', query_settings={'max_threads': 5}) }}\nselect getSetting('max_threads') as v\n",
      'models/v.sql': "{{ config(materialized='view', query_settings={'max_threads': 7}) }}\nselect 1 as v\n",
    });
    const first = await runKiln(dir, ['run']);
    expect(first.code, allOutput(first)).toBe(0);
    expect(first.stderr).toContain("warning: models/v.sql:1: query_settings apply to table and incremental models; ignored on a view");
    const second = await runKiln(dir, ['run', '--select', 'i']);
    expect(second.code, allOutput(second)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    expect(await queryWarehouse(wh, 'SELECT toString(v) AS v FROM analytics.t')).toEqual([{ v: '3' }]);
    // The first build (CREATE … AS SELECT) and the increment (INSERT … SELECT) both ran with it.
    expect(await queryWarehouse(wh, 'SELECT toString(v) AS v FROM analytics.i')).toEqual([{ v: '5' }, { v: '5' }]);
  }, 120_000);

  it('that are not a mapping are an error at the config', async () => {
    const dir = writeProject({ 'dbt_project.yml': DBT_PROJECT, 'models/t.sql': "{{ config(materialized='table', query_settings='max_threads=3') }}\nselect 1 as v\n" });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: models/t.sql:1: config 'query_settings' must map setting names to values");
  }, 60_000);
});

describe('adapter.drop_relation', () => {
  it('in a hook runs where the hook runs (dbt_utils’ integration seeds drop themselves so)', async () => {
    const dir = writeProject({
      'dbt_project.yml': `${DBT_PROJECT}seeds:\n  shop:\n    dropped:\n      +post-hook: "{% do adapter.drop_relation(this.incorporate(type='table')) %}"\n`,
      'seeds/dropped.csv': 'a\n1\n',
      'seeds/kept.csv': 'a\n1\n',
      'models/m.sql': "{{ config(materialized='table', pre_hook=\"{% do adapter.drop_relation(api.Relation.create(schema='analytics', identifier='kept')) %}select 1\") }}\nselect 1 as one\n",
    });
    const seed = await runKiln(dir, ['seed']);
    expect(seed.code, allOutput(seed)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    expect(await relationNames(wh, 'analytics')).toEqual(['kept']);
    const run = await runKiln(dir, ['run']);
    expect(run.code, allOutput(run)).toBe(0);
    expect(await relationNames(wh, 'analytics')).toEqual(['m']);
  }, 120_000);

  it('in a model’s SQL is refused: kiln runs it only in hooks', async () => {
    const dir = writeProject({ 'dbt_project.yml': DBT_PROJECT, 'models/m.sql': "{% do adapter.drop_relation(ref('n')) %}\nselect 1 as one\n", 'models/n.sql': 'select 1 as one\n' });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: models/m.sql: model 'm' calls adapter.drop_relation, which kiln runs only in a pre_hook or post_hook");
  }, 60_000);

  it('in a singular test is refused with where to put it instead', async () => {
    const dir = writeProject({ 'dbt_project.yml': DBT_PROJECT, 'tests/drops.sql': "{% do adapter.drop_relation(ref('n')) %}\nselect 1 as one where 0\n", 'models/n.sql': 'select 1 as one\n' });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("error: tests/drops.sql: test 'drops' calls adapter.drop_relation, which kiln runs only in a pre_hook or post_hook");
    expect(r.stderr).toContain('a data test only reads: drop the relation in a post_hook of the model or seed that builds it');
  }, 60_000);
});

describe('{{ this }} in a model’s own SQL', () => {
  it('names where the model lands: its custom schema’s database and its alias, as in its hooks', async () => {
    const dir = writeProject({
      'dbt_project.yml': DBT_PROJECT,
      'models/m.sql': "{{ config(materialized='table', schema='mart', alias='m_alias') }}\nselect '{{ this.schema }}' as s, '{{ this.database }}' as d, '{{ this.identifier }}' as i, '{{ ref(\"n\").schema }}' as ns\n",
      'models/n.sql': "{{ config(schema='staging') }}\nselect 1 as one\n",
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(0);
    // dbt's default generate_schema_name: <target schema>_<custom schema>.
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT s, d, i, ns FROM analytics_mart.m_alias')).toEqual([{ s: 'analytics_mart', d: 'analytics_mart', i: 'm_alias', ns: 'analytics_staging' }]);
  }, 120_000);

  it('ref(\'x\').schema in a data test, and a generic test’s model.schema, name where x lands too', async () => {
    const dir = writeProject({
      'dbt_project.yml': DBT_PROJECT,
      'models/n.sql': "{{ config(schema='staging', alias='n_alias') }}\nselect 1 as one\n",
      'models/schema.yml': 'models:\n  - name: n\n    data_tests:\n      - lands_in: { expected: analytics_staging.n_alias }\n',
      // Fails (returns a row) unless the table it names exists.
      'tests/n_is_there.sql': "select count() as found from system.tables where database = '{{ ref(\"n\").schema }}' and name = '{{ ref(\"n\").identifier }}' having found = 0\n",
      'tests/generic/lands_in.sql': "{% test lands_in(model, expected) %}\nselect '{{ model.schema }}.{{ model.identifier }}' as landed where landed != '{{ expected }}'\n{% endtest %}\n",
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'target/run_results.json'), 'utf8')) as { results: Array<{ unique_id: string; status: string }> };
    const tests = results.results.filter((x) => x.unique_id.startsWith('test.'));
    expect(tests.map((t) => [t.unique_id.split('.')[2], t.status]).sort()).toEqual([
      ['lands_in_n_analytics_staging_n_alias', 'pass'],
      ['n_is_there', 'pass'],
    ]);
  }, 120_000);
});

describe('seeds are typed as dbt types them (agate)', () => {
  it('integers, numbers, dates, datetimes and booleans; an empty field or the word null is NULL and makes the column Nullable; column_types wins', async () => {
    const dir = writeProject({
      'dbt_project.yml': `${DBT_PROJECT}seeds:\n  shop:\n    typed:\n      +column_types:\n        code: String\n`,
      'seeds/typed.csv': [
        'id,amount,flag,lower_flag,day,at,at_iso,name,code,maybe_n,maybe_s,maybe_b,null_n,null_s',
        '1,1.5,True,true,2021-01-05,2021-01-01 10:00:00,2021-01-01T10:00:00.250Z,ann,007,3,x,False,4,NULL',
        '2,2,False,false,2021-1-6,2021-01-02 11:30:00,2021-01-02T11:30:00Z,"bob, jr",010,,,,null,y',
      ].join('\n') + '\n',
    });
    const r = await runKiln(dir, ['seed']);
    expect(r.code, allOutput(r)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    const types = await queryWarehouse(wh, "SELECT name, type FROM system.columns WHERE database = 'analytics' AND table = 'typed' ORDER BY position");
    expect(Object.fromEntries(types.map((c) => [c.name, c.type]))).toEqual({
      id: 'Int64',
      amount: 'Float64',
      flag: 'Bool',
      lower_flag: 'Bool',
      day: 'Date',
      at: 'DateTime',
      at_iso: 'DateTime64(6)',
      name: 'String',
      code: 'String',
      maybe_n: 'Nullable(Int64)',
      maybe_s: 'Nullable(String)',
      maybe_b: 'Nullable(Bool)',
      // agate reads the word null (any case) as None too.
      null_n: 'Nullable(Int64)',
      null_s: 'Nullable(String)',
    });
    const rows = await queryWarehouse(
      wh,
      "SELECT id, amount, toString(flag) AS flag, toString(day) AS day, toString(at) AS at, name, code, maybe_n, maybe_s, toString(maybe_b) AS maybe_b, null_n, null_s FROM analytics.typed ORDER BY id",
    );
    expect(rows.map((x) => ({ ...x, id: Number(x.id), maybe_n: x.maybe_n === null ? null : Number(x.maybe_n), null_n: x.null_n === null ? null : Number(x.null_n) }))).toEqual([
      { id: 1, amount: 1.5, flag: 'true', day: '2021-01-05', at: '2021-01-01 10:00:00', name: 'ann', code: '007', maybe_n: 3, maybe_s: 'x', maybe_b: 'false', null_n: 4, null_s: null },
      { id: 2, amount: 2, flag: 'false', day: '2021-01-06', at: '2021-01-02 11:30:00', name: 'bob, jr', code: '010', maybe_n: null, maybe_s: null, maybe_b: null, null_n: null, null_s: 'y' },
    ]);
  }, 120_000);

  it('a sorting key on a column with empty fields is refused before any statement, naming the column and column_types; typed, it loads', async () => {
    const seedYml = (config: string) => `seeds:\n  - name: s\n    config:\n${config}`;
    const dir = writeProject({ 'dbt_project.yml': DBT_PROJECT, 'seeds/s.csv': 'id,v\n1,a\n,b\n', 'seeds/schema.yml': seedYml('      order_by: [v, id]\n') });
    const refused = await runKiln(dir, ['seed']);
    expect(refused.code, allOutput(refused)).toBe(2);
    expect(refused.stderr).toContain("error: seeds/s.csv:1: seed 's' would fail on target 'dev': order_by uses column 'id', which has empty fields and so is Nullable(Int64); ClickHouse cannot sort by a Nullable column");
    expect(refused.stderr).toContain("hint: give 'id' a type in column_types");
    expect(await relationNames(join(dir, '.kiln/dev'), 'analytics')).toEqual([]);
    // Typed, an empty field loads as the type's default; a table that allows Nullable keys takes it as it is.
    writeFileSync(join(dir, 'seeds/schema.yml'), seedYml('      order_by: [v, id]\n      column_types: { id: Int64 }\n'));
    const typed = await runKiln(dir, ['seed']);
    expect(typed.code, allOutput(typed)).toBe(0);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT id, v FROM analytics.s ORDER BY v')).toEqual([{ id: 1, v: 'a' }, { id: 0, v: 'b' }]);
    writeFileSync(join(dir, 'seeds/schema.yml'), seedYml('      order_by: [v, id]\n      settings: { allow_nullable_key: 1 }\n'));
    const allowed = await runKiln(dir, ['seed']);
    expect(allowed.code, allOutput(allowed)).toBe(0);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT id, v FROM analytics.s ORDER BY v')).toEqual([{ id: 1, v: 'a' }, { id: null, v: 'b' }]);
  }, 120_000);
});

describe("a test macro's config(fail_calc=…)", () => {
  it('counts failures with it, and the YAML entry’s config wins over it', async () => {
    const dir = writeProject({
      'dbt_project.yml': DBT_PROJECT,
      // Like dbt_utils' equal_rowcount: one row per comparison, failing when its diff is not 0.
      'tests/generic/same_count.sql': `{% test same_count(model, other) %}
{{ config(fail_calc='sum(diff)') }}
select abs((select count() from {{ model }}) - (select count() from {{ other }})) as diff
{% endtest %}
`,
      'models/a.sql': 'select number from numbers(3)\n',
      'models/b.sql': 'select number from numbers(3)\n',
      'models/c.sql': 'select number from numbers(5)\n',
      'models/schema.yml': `version: 2
models:
  - name: a
    data_tests:
      - same_count: { other: ref('b') }
      - same_count: { other: ref('c'), name: a_vs_c }
      - same_count: { other: ref('b'), name: a_vs_b_rows, config: { fail_calc: 'count(*)' } }
`,
    });
    const r = await runKiln(dir, ['build']);
    expect(r.stdout).toMatch(/PASS +test same_count_a_ref_b_/);
    expect(r.stdout).toMatch(/FAIL +test a_vs_c .*\[2 failing/);
    expect(r.stdout).toMatch(/FAIL +test a_vs_b_rows .*\[1 failing/);
  }, 120_000);
});
