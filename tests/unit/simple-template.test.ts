import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/errors.js';
import type { MacroFile } from '../../src/project/nodes.js';
import { parseSimpleTemplate } from '../../src/template/simple-template.js';
import { sourceRelationsOf, TemplateEngine } from '../../src/template/template-engine.js';

const CALLS = new Set(['ref', 'source', 'config', 'var', 'env_var']);

function engine(macros: MacroFile[] = []): TemplateEngine {
  return new TemplateEngine({
    projectName: 'movies',
    scope: { vars: { data_root: 'data', days: 7, genres: ['drama', 'comedy'], nothing: null }, env: { KILN_USER: 'ana' } },
    target: { name: 'dev', engine: 'embedded', database: 'analytics', raw_database: 'raw' },
    runStartedAt: new Date('2025-11-04T12:34:56.789Z'),
    invocationId: 'inv-123',
    sources: sourceRelationsOf(new Map([['app', new Map([['users', '`raw`.`app__users`']])]])),
    macros,
  });
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; location: unknown; hint: unknown } };

function outcome(eng: TemplateEngine, code: string): Outcome {
  try {
    return { ok: true, value: eng.render({ name: 'm', file: 'models/m.sql', code }) };
  } catch (err) {
    if (!(err instanceof KilnError)) throw err;
    return { ok: false, error: { code: err.code, message: err.message, location: err.location, hint: err.hint } };
  }
}

/** A trailing comment renders nothing but forces nunjucks, so the two paths can be compared. */
function expectSameAsNunjucks(code: string, macros: MacroFile[] = []): Outcome {
  const fast = outcome(engine(macros), code);
  const slow = outcome(engine(macros), `${code}{# force nunjucks #}`);
  expect(fast).toEqual(slow);
  return fast;
}

const SIMPLE = [
  "{{ config(materialized='view') }}\nSELECT id FROM {{ ref('a') }}\n",
  'SELECT * FROM {{ref("a")}} JOIN {{ ref(\'pkg\', "b") }} USING (id)',
  "{{ config(materialized='table', order_by='id', tags=['x', 'y'], enabled=true, settings=[], n=3) }}select 1",
  "{{ config(\n  materialized = 'incremental',\n  unique_key = ['a','b']\n) }}\nSELECT {{ var('days') }}, '{{ var('missing', 'dflt') }}', {{ var('genres') }}",
  "SELECT '{{ env_var('KILN_USER') }}', '{{ env_var('NOPE', 5) }}' FROM {{ source('app', 'users') }}",
  "SELECT {{ var('nothing', 1) }} -- }} and { braces } and %} are text\n",
  "{{ config(materialized='view', materialized='table') }}SELECT 1",
  'no templating at all\n',
  '',
];

const NOT_SIMPLE = [
  "{{ ref('a') | upper }}",
  "{{- ref('a') }}",
  "{{ ref('a') -}}",
  '{{ this }}',
  "{{ ref('a\\'b') }}",
  "{{ config(enabled=False) }}",
  "{{ var('days') + 1 }}",
  "{{ ref('a', ) }}",
  "{{ ref(1.5) }}",
  "{% set x = 1 %}{{ ref('a') }}",
  "{# c #}{{ ref('a') }}",
  "{{ ref('a') }",
  "{{ log('x') }}",
  "{{ config(a==1) }}",
];

describe('simple templates (rendered without nunjucks)', () => {
  it.each(SIMPLE)('takes the fast path and renders like nunjucks: %j', (code) => {
    expect(parseSimpleTemplate(code, CALLS)).toBeDefined();
    const out = expectSameAsNunjucks(code);
    expect(out.ok).toBe(true);
  });

  it.each(NOT_SIMPLE)('leaves anything else to nunjucks: %j', (code) => {
    expect(parseSimpleTemplate(code, CALLS)).toBeUndefined();
  });

  it('keeps nunjucks errors and their line numbers', () => {
    for (const code of [
      "SELECT 1\n\nFROM {{ source('app', 'nope') }}",
      "SELECT 1\nFROM {{ ref() }}",
      "SELECT {{ var('undefined_var') }}",
      "SELECT '{{ env_var('UNSET_VAR') }}'",
    ]) {
      const out = expectSameAsNunjucks(code);
      expect(out.ok).toBe(false);
    }
  });

  it('defers to a macro that shadows a built-in', () => {
    const macros = [{ path: 'macros/ref.sql', source: "{% macro ref(name) %}`custom`.`{{ name }}`{% endmacro %}" }];
    const out = expectSameAsNunjucks("SELECT * FROM {{ ref('a') }}", macros);
    expect(out.ok && (out.value as { sql: string }).sql).toBe('SELECT * FROM `custom`.`a`');
  });

  it('gives every render its own list literals', () => {
    const eng = engine();
    const code = "{{ config(tags=['a']) }}SELECT 1";
    const first = eng.render({ name: 'm', file: 'models/m.sql', code });
    (first.config.tags as string[]).push('mutated');
    const second = eng.render({ name: 'm', file: 'models/m.sql', code });
    expect(second.config.tags).toEqual(['a']);
  });
});
