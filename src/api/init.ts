import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { KilnError } from '../errors.js';

const FILES = (name: string): Record<string, string> => ({
  'project.yml': `name: ${name}
version: 1
model-paths: [models]
seed-paths: [seeds]
macro-paths: [macros]
test-paths: [tests/data]
target-path: target
vars: {}
models:
  staging: { materialized: view }
  marts: { materialized: table }
target: dev
targets:
  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }
  prod:
    engine: clickhouse
    url: "{{ env_var('CLICKHOUSE_URL') }}"
    username: "{{ env_var('CLICKHOUSE_USER', 'default') }}"
    password: "{{ env_var('CLICKHOUSE_PASSWORD', '') }}"
    database: analytics
    raw_database: raw
`,
  'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\nJP,Japan\n',
  'models/staging/stg_countries.sql': `SELECT upper({{ trim_whitespace('code') }}) AS country_code, {{ trim_whitespace('name') }} AS country_name
FROM {{ ref('countries') }}
`,
  'models/marts/dim_country.sql': `{{ config(order_by='country_code') }}
SELECT country_code, country_name
FROM {{ ref('stg_countries') }}
`,
  'models/marts/schema.yml': `models:
  - name: dim_country
    description: One row per country.
    columns:
      - name: country_code
        data_tests: [unique, not_null]
`,
  'macros/text.sql': `{# Leading and trailing spaces, tabs and line breaks removed. A regular expression rather than
   trim(), which ClickHouse 18.16 (the oldest server kiln supports) does not have. #}
{% macro trim_whitespace(expr) -%}
replaceRegexpAll({{ expr }}, '^[ \\t\\r\\n]+|[ \\t\\r\\n]+$', '')
{%- endmacro %}
`,
  'tests/data/.gitkeep': '',
  '.gitignore': 'target/\n.kiln/\n',
});

/** kiln's npm package: the `kiln` command comes with it. */
export const PACKAGE_NAME = 'kiln-clickhouse';

/** True when `npx kiln` run in `dir` finds kiln: the package is installed there or in a folder above. */
export function kilnInstalledFor(dir: string): boolean {
  for (let at = resolve(dir); ; at = dirname(at)) {
    if (existsSync(join(at, 'node_modules', PACKAGE_NAME, 'package.json'))) return true;
    if (dirname(at) === at) return false;
  }
}

/** `kiln init [dir]`: a small working project. Refuses to overwrite a non-empty folder's project.yml. */
export function initProject(dir: string): { root: string; files: string[] } {
  const root = resolve(dir);
  if (existsSync(join(root, 'project.yml'))) {
    throw new KilnError('CONFIG_INVALID', `${root} already has a project.yml`, { hint: 'choose another folder: kiln init my_project' });
  }
  const name = basename(root).replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'analytics';
  const written: string[] = [];
  mkdirSync(root, { recursive: true });
  const taken = new Set(readdirSync(root));
  for (const [file, text] of Object.entries(FILES(name))) {
    if (taken.has(file)) continue;
    mkdirSync(join(root, file, '..'), { recursive: true });
    if (!existsSync(join(root, file))) {
      writeFileSync(join(root, file), text);
      written.push(file);
    }
  }
  return { root, files: written };
}
