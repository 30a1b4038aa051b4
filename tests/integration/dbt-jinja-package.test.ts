import { createHash } from 'node:crypto';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, removeProjects, runKiln, writeFiles, writeProject, type KilnResult } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * A dbt project in dbt's own layout (dbt_project.yml with dispatch:, packages.yml with a local:
 * package, no kiln file) whose package macros work like dbt_utils': dispatch, return() of lists
 * and numbers, **kwargs, run_query, statement/load_result, adapter.get_columns_in_relation and
 * dbt's cross-database macros. The introspective models render with execute=false at compile and
 * again, against the warehouse, when they execute. Embedded engine; no network.
 */
afterAll(removeProjects);

const FIXTURE = join(REPO_ROOT, 'tests/fixtures/dbt-jinja');

describe('a dbt project with a dbt_utils-style package', () => {
  let dir: string;
  let wh: string;
  let build: KilnResult;
  beforeAll(async () => {
    const parent = writeProject({});
    cpSync(FIXTURE, parent, { recursive: true });
    dir = join(parent, 'shop');
    wh = join(dir, '.kiln/dev');
    build = await runKiln(dir, ['build', '--threads', '1']);
  });

  it('builds every model and passes the package generic tests', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toMatch(/models +6 +0 +0 +0 +0/);
    // same_rows asks the warehouse for both relations' columns: rendered again when it runs.
    expect(build.stdout).toMatch(/PASS +test mini_utils_same_rows_orders_star_ref_orders_/);
    expect(build.stdout).toMatch(/data tests +3 +0 +0 +0 +0/);
  });

  it('star() read the columns at execution; the compiled SQL is what execute=false renders', async () => {
    const rows = await queryWarehouse(wh, "SELECT name FROM system.columns WHERE database = 'analytics' AND table = 'orders_star' ORDER BY position");
    expect(rows.map((r) => r.name)).toEqual(['order_id', 'customer', 'status']);
    expect(readFileSync(join(dir, 'target/compiled/models/orders_star.sql'), 'utf8')).toContain('SELECT *');
    expect(readFileSync(join(dir, 'target/run/models/orders_star.sql'), 'utf8')).toContain('SELECT o.`order_id`, o.`customer`, o.`status`\n');
  });

  it('get_column_values() (statement + load_result) pivots on the values the table has', async () => {
    const rows = await queryWarehouse(wh, 'SELECT customer, paid, refunded FROM analytics.orders_pivot ORDER BY customer');
    expect(rows).toEqual([
      { customer: 'ann', paid: 1, refunded: 1 },
      { customer: 'bob', paid: 1, refunded: 0 },
      { customer: 'cid', paid: 1, refunded: 0 },
    ]);
  });

  it('union_relations() unions relations with different columns', async () => {
    const rows = await queryWarehouse(wh, 'SELECT _dbt_source_relation AS src, order_id, reason FROM analytics.orders_union ORDER BY src, order_id');
    expect(rows).toEqual([
      ...[1, 2, 3, 4].map((order_id) => ({ src: 'orders', order_id, reason: null })),
      { src: 'returns', order_id: 3, reason: 'damaged' },
    ]);
  });

  it('run_query, the project\'s dispatched override, and cross-database macros', async () => {
    const rows = await queryWarehouse<{ order_id: number; order_key: string; order_id_text: string; share: number; next_day: string; middle: string }>(
      wh,
      "SELECT order_id, order_key, order_key = (SELECT lower(hex(MD5(concat(toString(o.order_id), o.customer)))) FROM analytics.orders AS o WHERE o.order_id = order_keys.order_id) AS root_override, order_id_text, share, toString(next_day) AS next_day, middle FROM analytics.order_keys ORDER BY order_id",
    );
    expect(rows.map((r) => r.order_id_text)).toEqual(['1', '2', '3', '4']);
    expect(rows.every((r) => (r as unknown as { root_override: number }).root_override === 1)).toBe(true);
    // run_query read the total (42) when the model executed.
    expect(rows.map((r) => Math.round(r.share * 42))).toEqual([10, 20, 5, 7]);
    expect(rows[0]).toMatchObject({ next_day: '2024-02-01', middle: 'b' });
  });

  it('a number from return() and dbt.dateadd/datediff', async () => {
    expect((await queryWarehouse(wh, 'SELECT count() AS n, max(generated_number) AS top FROM analytics.numbers'))[0]).toEqual({ n: 10, top: 10 });
    const days = await queryWarehouse(wh, 'SELECT toString(date_day) AS d FROM analytics.days ORDER BY d');
    expect(days.map((r) => r.d)).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
  });

  it('an error raised in a package macro names the macro file line and the model line', async () => {
    writeFiles(dir, { 'models/broken.sql': "SELECT 1\nUNION ALL\nSELECT {{ mini_utils.star(ref('empty')) }}\n", 'models/empty.sql': "{{ config(materialized='table') }}SELECT 1 AS x WHERE 0" });
    // Validation would stop this first (broken reads `empty`, which is neither built nor selected);
    // without it the run renders broken against the warehouse and the package macro raises.
    const checked = await runKiln(dir, ['build', '--select', 'broken', '--threads', '1']);
    expect(checked.code).toBe(2);
    expect(checked.stderr).toContain("'broken' reads model 'empty' (analytics.empty), which does not exist on target");
    const r = await runKiln(dir, ['build', '--select', 'broken', '--threads', '1', '--no-validate']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 of 1 ERROR');
    expect(r.stdout).toContain('models/broken.sql:3: star() found no columns in empty (in macro ../mini_utils/macros/columns.sql:12, called from ../mini_utils/macros/columns.sql:3)');
  });
});

/**
 * A package named dbt_utils whose dispatched macros have only `default__` versions that cannot run
 * on ClickHouse (they raise here): kiln's ClickHouse versions of union_relations,
 * get_tables_by_pattern_sql / get_table_types_sql, generate_series, width_bucket,
 * generate_surrogate_key and unpivot are taken
 * instead, as an adapter's would be, and a project's own version still wins over kiln's.
 */
const DBT_UTILS_LIKE: Record<string, string> = {
  'dbt_utils/dbt_project.yml': "name: dbt_utils\nversion: '1.0'\nconfig-version: 2\n",
  'dbt_utils/macros/dispatched.sql': ['union_relations(relations, column_override=none, include=[], exclude=[], source_column_name=\'_dbt_source_relation\', where=none)', 'get_tables_by_pattern_sql(schema_pattern, table_pattern, exclude=\'\', database=target.database)', 'get_table_types_sql()', 'generate_series(upper_bound)', 'width_bucket(expr, min_value, max_value, num_buckets)', 'generate_surrogate_key(field_list)', "unpivot(relation=none, cast_to='varchar', exclude=none, remove=none, field_name='field_name', value_name='value', quote_identifiers=False)"]
    .map((signature) => {
      const name = signature.slice(0, signature.indexOf('('));
      const args = signature.slice(signature.indexOf('(') + 1, -1).split(',').map((a) => a.split('=')[0]!.trim()).filter(Boolean).join(', ');
      return `{% macro ${signature} %}{{ return(adapter.dispatch('${name}', 'dbt_utils')(${args})) }}{% endmacro %}
{% macro default__${signature} %}{{ exceptions.raise_compiler_error('default__${name} is not for ClickHouse') }}{% endmacro %}
`;
    })
    .join(''),
  // dbt_utils' own get_relations_by_pattern: a statement of get_tables_by_pattern_sql, then relations.
  'dbt_utils/macros/relations.sql': `{% macro get_relations_by_pattern(schema_pattern, table_pattern, exclude='', database=target.database) %}
{%- call statement('get_tables', fetch_result=True) %}{{ dbt_utils.get_tables_by_pattern_sql(schema_pattern, table_pattern, exclude, database) }}{%- endcall -%}
{%- set found = load_result('get_tables') -%}
{%- set relations = [] -%}
{%- if found and found['table'] -%}
{%- for row in found['table'] -%}{%- do relations.append(api.Relation.create(database=database, schema=row.table_schema, identifier=row.table_name, type=row.table_type)) -%}{%- endfor -%}
{%- endif -%}
{{ return(relations) }}
{% endmacro %}
`,
};

describe("dbt_utils' dispatched macros that need ClickHouse versions", () => {
  let dir: string;
  let build: KilnResult;
  beforeAll(async () => {
    dir = writeProject({
      'shop/dbt_project.yml': "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n",
      'shop/packages.yml': 'packages:\n  - local: ../dbt_utils\n',
      ...DBT_UTILS_LIKE,
      'shop/seeds/events_2024_01.csv': 'id,user_id,event\n1,10,open\n2,11,click\n',
      'shop/seeds/events_2024_02.csv': 'id,event,channel\n3,open,mail\n',
      'shop/seeds/events_archive.csv': 'id,event\n9,old\n',
      'shop/models/events_all.sql': `-- depends_on: {{ ref('events_2024_01') }}, {{ ref('events_2024_02') }}, {{ ref('events_archive') }}
{% set relations = dbt_utils.get_relations_by_pattern(target.schema, 'events_2024%') %}
{{ dbt_utils.union_relations(relations) }}
`,
      'shop/models/events_some.sql': `{{ dbt_utils.union_relations([ref('events_2024_01'), ref('events_2024_02')], exclude=['channel'], source_column_name=none, where='id < 3') }}\n`,
      'shop/models/people.sql': "select 1 as id, toNullable('ann') as name, CAST(NULL AS Nullable(Bool)) as active union all select 2, CAST(NULL AS Nullable(String)), toNullable(true)\n",
      'shop/models/people_keys.sql': "select id, {{ dbt_utils.generate_surrogate_key(['id', 'name']) }} as k from {{ ref('people') }}\n",
      'shop/models/people_long.sql': "{{ dbt_utils.unpivot(relation=ref('people'), cast_to='String', exclude=['id'], field_name='prop', value_name='val') }}\n",
      'shop/models/series.sql': 'select generated_number from ({{ dbt_utils.generate_series(5) }})\n',
      'shop/models/buckets.sql': 'select x, {{ dbt_utils.width_bucket("x", 0, 10, 5) }} as bucket from (select arrayJoin([0.5, 2.0, 9.9, 13.0]) as x)\n',
    });
    dir = join(dir, 'shop');
    build = await runKiln(dir, ['build', '--threads', '1']);
  });
  const query = (sql: string) => queryWarehouse(join(dir, '.kiln/dev'), sql);

  it('builds: no default__ version ran', () => {
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
  });

  it('get_relations_by_pattern found the matching tables in system.tables; union_relations fills missing columns with NULL', async () => {
    const rows = await query('SELECT _dbt_source_relation AS src, id, user_id, event, channel FROM analytics.events_all ORDER BY id');
    expect(rows).toEqual([
      { src: '`analytics`.`events_2024_01`', id: 1, user_id: 10, event: 'open', channel: null },
      { src: '`analytics`.`events_2024_01`', id: 2, user_id: 11, event: 'click', channel: null },
      { src: '`analytics`.`events_2024_02`', id: 3, user_id: null, event: 'open', channel: 'mail' },
    ]);
    const types = await query("SELECT name, type FROM system.columns WHERE database = 'analytics' AND table = 'events_all' AND name IN ('user_id', 'event') ORDER BY name");
    expect(types).toEqual([
      { name: 'event', type: 'String' },
      { name: 'user_id', type: 'Nullable(Int64)' },
    ]);
  });

  it('union_relations honours exclude, where and no source column', async () => {
    expect(await query('SELECT * FROM analytics.events_some ORDER BY id')).toEqual([
      { id: 1, user_id: 10, event: 'open' },
      { id: 2, user_id: 11, event: 'click' },
    ]);
  });

  it('generate_series is integers 1..n; width_bucket puts values past the top in bucket n+1', async () => {
    const series = await query('SELECT toTypeName(generated_number) AS t, generated_number AS n FROM analytics.series ORDER BY n');
    expect(series.map((r) => r.n)).toEqual([1, 2, 3, 4, 5]);
    expect(series[0]!.t).toBe('Int64');
    expect((await query('SELECT bucket FROM analytics.buckets ORDER BY x')).map((r) => r.bucket)).toEqual([1, 2, 5, 6]);
  });

  it('generate_surrogate_key hashes a NULL as the package\'s null marker; unpivot keeps NULLs of Nullable columns', async () => {
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    expect(await query('SELECT id, k FROM analytics.people_keys ORDER BY id')).toEqual([
      { id: 1, k: md5('1-ann') },
      { id: 2, k: md5('2-_dbt_utils_surrogate_key_null_') },
    ]);
    expect(await query('SELECT id, prop, val FROM analytics.people_long ORDER BY id, prop')).toEqual([
      { id: 1, prop: 'active', val: null },
      { id: 1, prop: 'name', val: 'ann' },
      { id: 2, prop: 'active', val: 'true' },
      { id: 2, prop: 'name', val: null },
    ]);
  });

  it("a project's own clickhouse__ version wins over kiln's", async () => {
    writeFiles(dir, { 'macros/series.sql': "{% macro clickhouse__generate_series(upper_bound) %}select toInt64(number * 100) as generated_number from numbers({{ upper_bound }}){% endmacro %}\n" });
    const r = await runKiln(dir, ['build', '--select', 'series', '--threads', '1']);
    expect(r.code).toBe(0);
    expect((await query('SELECT generated_number AS n FROM analytics.series ORDER BY n')).map((row) => row.n)).toEqual([0, 100, 200, 300, 400]);
  });
});

/**
 * The same with dbt_utils' NULL-sensitive macros: their `default__` versions raise here, so the
 * results below are kiln's ClickHouse versions, run on seeds typed as dbt types them (an empty
 * field is NULL).
 */
const NULL_SENSITIVE: Record<string, string> = {
  'dbt_utils/dbt_project.yml': "name: dbt_utils\nversion: '1.0'\nconfig-version: 2\n",
  'dbt_utils/macros/dispatched.sql': `{% macro generate_surrogate_key(field_list) %}{{ return(adapter.dispatch('generate_surrogate_key', 'dbt_utils')(field_list)) }}{% endmacro %}
{% macro default__generate_surrogate_key(field_list) %}{{ exceptions.raise_compiler_error('not for ClickHouse') }}{% endmacro %}
{% macro unpivot(relation=none, cast_to='varchar', exclude=none, remove=none, field_name='field_name', value_name='value', quote_identifiers=False) %}{{ return(adapter.dispatch('unpivot', 'dbt_utils')(relation, cast_to, exclude, remove, field_name, value_name, quote_identifiers)) }}{% endmacro %}
{% macro default__unpivot(relation=none, cast_to='varchar', exclude=none, remove=none, field_name='field_name', value_name='value', quote_identifiers=False) %}{{ exceptions.raise_compiler_error('not for ClickHouse') }}{% endmacro %}
{% test sequential_values(model, column_name, interval=1, datepart=None, group_by_columns=[]) %}{{ return(adapter.dispatch('test_sequential_values', 'dbt_utils')(model, column_name, interval, datepart, group_by_columns)) }}{% endtest %}
{% macro default__test_sequential_values(model, column_name, interval=1, datepart=None, group_by_columns=[]) %}{{ exceptions.raise_compiler_error('not for ClickHouse') }}{% endmacro %}
{% test mutually_exclusive_ranges(model, lower_bound_column, upper_bound_column, partition_by=None, gaps='allowed', zero_length_range_allowed=False) %}{{ return(adapter.dispatch('test_mutually_exclusive_ranges', 'dbt_utils')(model, lower_bound_column, upper_bound_column, partition_by, gaps, zero_length_range_allowed)) }}{% endtest %}
{% macro default__test_mutually_exclusive_ranges(model, lower_bound_column, upper_bound_column, partition_by=None, gaps='allowed', zero_length_range_allowed=False) %}{{ exceptions.raise_compiler_error('not for ClickHouse') }}{% endmacro %}
`,
};

describe("dbt_utils' NULL-sensitive macros on ClickHouse", () => {
  let dir: string;
  let build: KilnResult;
  beforeAll(async () => {
    dir = writeProject({
      'shop/dbt_project.yml': "name: shop\nversion: '1.0'\nconfig-version: 2\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n",
      'shop/packages.yml': 'packages:\n  - local: ../dbt_utils\n',
      ...NULL_SENSITIVE,
      'shop/seeds/people.csv': 'id,name,nick,active\n1,ann,,True\n2,,bo,\n',
      // Two groups whose sequences each start high: with ClickHouse's lag() default (0) the first row of each would fail.
      'shop/seeds/steps.csv': 'grp,n,at\n1,6,2021-01-01 05:00:00\n1,8,2021-01-01 06:00:00\n2,10,2021-01-01 07:00:00\n2,12,2021-01-01 08:00:00\n',
      'shop/seeds/ranges.csv': 'lo,hi\n0,1\n1,2\n2,4\n',
      'shop/seeds/overlapping.csv': 'lo,hi\n0,3\n2,4\n',
      'shop/models/keys.sql': "select id, {{ dbt_utils.generate_surrogate_key(['name', 'nick']) }} as k from {{ ref('people') }}\n",
      'shop/models/long.sql': "{{ dbt_utils.unpivot(relation=ref('people'), cast_to=dbt.type_string(), exclude=['id'], field_name='prop', value_name='val') }}\n",
      'shop/models/schema.yml': `version: 2
seeds:
  - name: steps
    columns:
      - name: n
        data_tests:
          - dbt_utils.sequential_values: { interval: 2, group_by_columns: ['grp'] }
      - name: at
        data_tests:
          - dbt_utils.sequential_values: { interval: 1, datepart: hour }
  - name: ranges
    data_tests:
      - dbt_utils.mutually_exclusive_ranges: { lower_bound_column: lo, upper_bound_column: hi, gaps: not_allowed }
  - name: overlapping
    data_tests:
      - dbt_utils.mutually_exclusive_ranges: { lower_bound_column: lo, upper_bound_column: hi }
`,
    });
    dir = join(dir, 'shop');
    build = await runKiln(dir, ['build', '--threads', '1']);
  });
  const query = (sql: string) => queryWarehouse(join(dir, '.kiln/dev'), sql);

  it('generate_surrogate_key: a NULL field hashes as dbt_utils’ marker, not a failed cast', async () => {
    expect(build.stdout).toMatch(/OK +table model analytics\.keys/);
    const rows = await query(
      "SELECT id, k = lower(hex(MD5(concat('ann', '-', '_dbt_utils_surrogate_key_null_')))) AS first, k = lower(hex(MD5(concat('_dbt_utils_surrogate_key_null_', '-', 'bo')))) AS second FROM analytics.keys ORDER BY id",
    );
    expect(rows.map((r) => [Number(r.first), Number(r.second)])).toEqual([[1, 0], [0, 1]]);
  });

  it('unpivot: a NULL stays NULL in the value column, booleans are true/false text', async () => {
    expect(await query('SELECT id, prop, val FROM analytics.long ORDER BY id, prop')).toEqual([
      { id: 1, prop: 'active', val: 'true' },
      { id: 1, prop: 'name', val: 'ann' },
      { id: 1, prop: 'nick', val: null },
      { id: 2, prop: 'active', val: null },
      { id: 2, prop: 'name', val: null },
      { id: 2, prop: 'nick', val: 'bo' },
    ]);
  });

  it('sequential_values and mutually_exclusive_ranges: the first and last rows have no neighbour; an overlap still fails', () => {
    expect(build.stdout).toMatch(/PASS +test dbt_utils_sequential_values_steps_n__grp__2/);
    expect(build.stdout).toMatch(/PASS +test dbt_utils_sequential_values_steps_at__hour__1/);
    expect(build.stdout).toMatch(/PASS +test dbt_utils_mutually_exclusive_ranges_ranges_not_allowed__lo__hi/);
    expect(build.stdout).toMatch(/FAIL +test dbt_utils_mutually_exclusive_ranges_overlapping_lo__hi/);
    // passed, warned, failed, …: the one overlap is the build's only failure.
    expect(build.stdout).toMatch(/data tests +3 +0 +1 +0 +0/);
    expect(build.stdout).toMatch(/models +2 +0 +0 +0 +0/);
  });
});
