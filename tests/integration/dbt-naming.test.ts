import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, readJson, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/**
 * dbt's naming macros on the embedded engine: a custom `schema` is a ClickHouse database named by
 * generate_schema_name (dbt's default `<target schema>_<custom>`), `alias` names the table through
 * generate_alias_name, and a project's own macros replace either. ref(), `this`, the manifest,
 * the tables built and the docs catalog must all name the same relation.
 */
afterAll(removeProjects);

/** A dbt-layout project (no profile: the embedded target, database `analytics`). */
const PROJECT: Record<string, string> = {
  'dbt_project.yml': `name: shop
profile: shop
config-version: 2
models:
  shop:
    staging:
      +schema: staging
      +materialized: table
seeds:
  shop:
    +schema: raw
`,
  'seeds/countries.csv': 'code,name\nNL,Netherlands\nFR,France\n',
  'models/staging/stg_countries.sql': "select code, name from {{ ref('countries') }}\n",
  'models/staging/stg_codes.sql': "{{ config(alias='country_codes', post_hook=\"insert into {{ this }} select 'XX'\") }}\nselect code from {{ ref('stg_countries') }}\n",
  'models/report.sql': "{{ config(materialized='table') }}\nselect count() as n from {{ ref('stg_codes') }}\n",
};

describe("dbt's default naming", () => {
  it('a custom schema lands in <target>_<schema>, an alias names the table, and every reader agrees', async () => {
    const dir = writeProject({
      ...PROJECT,
      // A hook reads where its model lands from `this`, as dbt's grants and audit hooks do.
      'models/staging/stg_where.sql': `{{ config(post_hook="insert into {{ this }} select '{{ this.schema }}.{{ this.identifier }}'") }}\nselect 'built' as v\n`,
    });
    const build = await runKiln(dir, ['build']);
    expect(build.code, allOutput(build)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    expect(await relationNames(wh, 'analytics_raw')).toEqual(['countries']);
    expect(await relationNames(wh, 'analytics_staging')).toEqual(['country_codes', 'stg_countries', 'stg_where']);
    expect(await queryWarehouse(wh, 'SELECT v FROM analytics_staging.stg_where ORDER BY v')).toEqual([{ v: 'analytics_staging.stg_where' }, { v: 'built' }]);
    expect(await relationNames(wh, 'analytics')).toEqual(['report']);
    // ref('stg_codes') read the aliased table, and its post_hook's {{ this }} wrote into it.
    expect(await queryWarehouse(wh, 'SELECT toString(n) AS n FROM analytics.report')).toEqual([{ n: '3' }]);
    expect(readFileSync(join(dir, 'target/compiled/models/report.sql'), 'utf8')).toContain('`analytics_staging`.`country_codes`');

    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.shop.stg_codes']).toMatchObject({ database: 'analytics_staging', schema: 'analytics_staging', alias: 'country_codes', relation_name: '`analytics_staging`.`country_codes`' });
    expect(manifest.nodes['seed.shop.countries']).toMatchObject({ schema: 'analytics_raw', relation_name: '`analytics_raw`.`countries`' });
    expect(manifest.nodes['model.shop.report']).toMatchObject({ schema: 'analytics', relation_name: '`analytics`.`report`' });

    const docs = await runKiln(dir, ['docs', 'generate']);
    expect(docs.code, allOutput(docs)).toBe(0);
    const catalog = readJson(dir, 'target/catalog.json');
    expect(catalog.nodes['model.shop.stg_codes'].metadata).toMatchObject({ schema: 'analytics_staging', name: 'country_codes' });
  }, 180_000);
});

describe("a project's own naming macros", () => {
  it('generate_schema_name and generate_alias_name replace dbt’s, for models and seeds alike', async () => {
    const dir = writeProject({
      ...PROJECT,
      // The usual override: a custom schema is used as written, and prod-style prefixes on aliases.
      'macros/naming.sql': `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
  {%- if custom_alias_name -%}{{ custom_alias_name | trim }}
  {%- elif node.resource_type == 'seed' -%}seed_{{ node.name }}
  {%- else -%}{{ node.fqn[1:] | join('__') }}{%- endif -%}
{%- endmacro %}
`,
    });
    const build = await runKiln(dir, ['build']);
    expect(build.code, allOutput(build)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    expect(await relationNames(wh, 'raw')).toEqual(['seed_countries']);
    expect(await relationNames(wh, 'staging')).toEqual(['country_codes', 'staging__stg_countries']);
    expect(await relationNames(wh, 'analytics')).toEqual(['report']);
    expect(await queryWarehouse(wh, 'SELECT toString(n) AS n FROM analytics.report')).toEqual([{ n: '3' }]);
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.shop.stg_countries']).toMatchObject({ schema: 'staging', alias: 'staging__stg_countries' });
    expect(readFileSync(join(dir, 'target/compiled/models/staging/stg_codes.sql'), 'utf8')).toContain('`staging`.`staging__stg_countries`');
  }, 180_000);

  it('a dispatched clickhouse__generate_schema_name is used too; kiln’s database config goes through generate_database_name', async () => {
    const dir = writeProject({
      ...PROJECT,
      'models/exported.sql': "{{ config(materialized='table', database='exports') }}\nselect 1 as one\n",
      'macros/naming.sql': `{% macro clickhouse__generate_schema_name(custom_schema_name, node) -%}
  {{ (custom_schema_name or 'main') | trim }}_{{ target.name }}
{%- endmacro %}
{% macro generate_database_name(custom_database_name=none, node=none) -%}
  {{ custom_database_name }}_{{ node.package_name }}
{%- endmacro %}
`,
    });
    const build = await runKiln(dir, ['build']);
    expect(build.code, allOutput(build)).toBe(0);
    const wh = join(dir, '.kiln/dev');
    expect(await relationNames(wh, 'staging_dev')).toEqual(['country_codes', 'stg_countries']);
    expect(await relationNames(wh, 'main_dev')).toEqual(['report']);
    expect(await relationNames(wh, 'raw_dev')).toEqual(['countries']);
    expect(await relationNames(wh, 'exports_shop')).toEqual(['exported']);
  }, 180_000);

  it('a naming macro that fails is an error at the model, naming the macro’s line', async () => {
    const dir = writeProject({
      ...PROJECT,
      'macros/naming.sql': `{% macro generate_schema_name(custom_schema_name, node) -%}
  {%- if custom_schema_name == 'staging' -%}{{ exceptions.raise_compiler_error('no staging schema here') }}{%- endif -%}
  {{ target.schema }}
{%- endmacro %}
`,
    });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: models/staging/stg_codes.sql: no staging schema here (in macro macros/naming.sql:2)');
  }, 120_000);
});
