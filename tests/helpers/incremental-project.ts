import { projectYml } from './kiln-cli.js';

/**
 * The inline project of the incremental suites (embedded and server): a source table `src` of
 * `n` rows (ids 0…n-1, ten per day, stamped with `ver`) and one incremental model per strategy.
 * `slow` (seconds per row) makes the incremental models slow enough to be killed mid-run.
 */

export type Strategy = 'append' | 'insert_overwrite' | 'delete_insert';
export const STRATEGIES: readonly Strategy[] = ['append', 'insert_overwrite', 'delete_insert'];

export const MODEL_OF: Readonly<Record<Strategy, string>> = {
  append: 'inc_append',
  insert_overwrite: 'inc_overwrite',
  delete_insert: 'inc_delete',
};

export const PROJECT_YML = projectYml(
  'inc',
  `  srv:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL', 'http://127.0.0.1:1') }}"
    username: "{{ env_var('KILN_TEST_CH_USER', 'default') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD', '') }}"
    database: "{{ env_var('KILN_TEST_DB', 'analytics') }}"
    raw_database: raw
    threads: 2
`,
);

const SRC = `{{ config(materialized='table', order_by='id') }}
SELECT toUInt64(number) AS id, toDate('2024-01-01') + intDiv(number, 10) AS day, toUInt32({{ var('ver', 1) }}) AS ver
FROM numbers({{ var('n', 20) }})
`;

const SLOW_MACRO = `{% macro slow() %}{% if var('slow', 0) %}sleepEachRow({{ var('slow') }}) = 0{% else %}1{% endif %}{% endmacro %}
`;

/** Each strategy's incremental filter: new ids; the last day again; an overlap of five ids. */
const MODELS: Readonly<Record<Strategy, string>> = {
  append: `{{ config(materialized='incremental', incremental_strategy='append', order_by='id') }}
SELECT id, day, ver FROM {{ ref('src') }}
WHERE {{ slow() }}
{% if is_incremental() %}  AND id > (SELECT max(id) FROM {{ this }}){% endif %}
`,
  insert_overwrite: `{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by='day', order_by='id') }}
SELECT id, day, ver FROM {{ ref('src') }}
WHERE {{ slow() }}
{% if is_incremental() %}  AND day >= (SELECT max(day) FROM {{ this }}){% endif %}
`,
  delete_insert: `{{ config(materialized='incremental', incremental_strategy='delete_insert', unique_key='id', order_by='id') }}
SELECT id, day, ver FROM {{ ref('src') }}
WHERE {{ slow() }}
{% if is_incremental() %}  AND id + 5 > (SELECT max(id) FROM {{ this }}){% endif %}
`,
};

export function incrementalProject(strategies: readonly Strategy[] = STRATEGIES): Record<string, string> {
  const files: Record<string, string> = {
    'project.yml': PROJECT_YML,
    'models/src.sql': SRC,
    'macros/slow.sql': SLOW_MACRO,
  };
  for (const s of strategies) files[`models/${MODEL_OF[s]}.sql`] = MODELS[s];
  return files;
}

/** Three models differing only in on_schema_change; `extra: true` adds a column. */
export function schemaChangeProject(): Record<string, string> {
  const model = (mode: string) => `{{ config(materialized='incremental', order_by='id', on_schema_change='${mode}') }}
SELECT id{% if var('extra', false) %}, id * 2 AS extra{% endif %} FROM {{ ref('src') }}
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}
`;
  return {
    'project.yml': PROJECT_YML,
    'models/src.sql': SRC,
    'models/osc_fail.sql': model('fail'),
    'models/osc_append.sql': model('append_new_columns'),
    'models/osc_ignore.sql': model('ignore'),
  };
}

/**
 * Which `ver` each id should carry after a run with n=`n`, ver=`ver` on top of an earlier state
 * (`before`: id → ver), following each strategy's filter. Pure, so the tests state expectations
 * instead of re-deriving them from the warehouse.
 */
export function expectedAfter(strategy: Strategy, before: ReadonlyMap<number, number>, n: number, ver: number): Map<number, number> {
  const out = new Map(before);
  const ids = [...before.keys()];
  const maxId = ids.length ? Math.max(...ids) : -1;
  const maxDay = ids.length ? Math.floor(maxId / 10) : -1;
  for (let id = 0; id < n; id++) {
    const take =
      before.size === 0 ||
      (strategy === 'append' && id > maxId) ||
      (strategy === 'insert_overwrite' && Math.floor(id / 10) >= maxDay) ||
      (strategy === 'delete_insert' && id + 5 > maxId);
    if (take) out.set(id, ver);
  }
  return out;
}

/** Rows the run adds or replaces (what rows_affected must say). */
export function expectedRowsAffected(strategy: Strategy, before: ReadonlyMap<number, number>, n: number): number {
  const after = expectedAfter(strategy, before, n, -1);
  return [...after.values()].filter((v) => v === -1).length;
}

export const initial = (n: number, ver: number): Map<number, number> => new Map(Array.from({ length: n }, (_, i) => [i, ver] as const));

/** `SELECT id, ver … ORDER BY id` as a map, for comparing with expectedAfter. */
export function asMap(rows: ReadonlyArray<{ id: string | number; ver: string | number }>): Map<number, number> {
  return new Map(rows.map((r) => [Number(r.id), Number(r.ver)]));
}
