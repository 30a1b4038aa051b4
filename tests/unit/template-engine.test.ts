import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/errors.js';
import type { MacroFile } from '../../src/project/nodes.js';
import { resolvePlaceholders } from '../../src/template/placeholders.js';
import { sourceRelationsOf, TemplateEngine, type TemplateEngineOptions } from '../../src/template/template-engine.js';

const STARTED = new Date('2025-11-04T12:34:56.789Z');

function engine(overrides: Partial<TemplateEngineOptions> = {}): TemplateEngine {
  return new TemplateEngine({
    projectName: 'movies',
    scope: { vars: { data_root: 'data', days: 7, genres: ['drama', 'comedy'] }, env: { KILN_USER: 'ana' } },
    target: { name: 'dev', engine: 'embedded', database: 'analytics', raw_database: 'raw' },
    runStartedAt: STARTED,
    invocationId: 'inv-123',
    sources: sourceRelationsOf(new Map([['app', new Map([['users', '`raw`.`app__users`'], ['reviews', '`raw`.`app__reviews`']])]])),
    macros: [],
    ...overrides,
  });
}

/** Renders and resolves ref placeholders as `<name>` so assertions read plainly. */
function render(code: string, opts: { engine?: TemplateEngine; isIncremental?: boolean; name?: string } = {}) {
  const out = (opts.engine ?? engine()).render({ name: opts.name ?? 'm', file: 'models/m.sql', code, isIncremental: opts.isIncremental ?? false });
  return { ...out, text: resolvePlaceholders(out.sql, (n) => `<${n}>`) };
}

function renderError(code: string, eng: TemplateEngine = engine()): KilnError {
  try {
    eng.render({ name: 'm', file: 'models/m.sql', code });
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error('expected the render to fail');
}

describe('kiln context', () => {
  it('ref() renders a placeholder resolved later and records the dependency', () => {
    const out = render("SELECT * FROM {{ ref('stg_users') }} JOIN {{ ref('pkg', 'stg_reviews') }} USING (id)");
    expect(out.text).toBe('SELECT * FROM <stg_users> JOIN <stg_reviews> USING (id)');
    expect(out.refs).toEqual(['stg_users', 'stg_reviews']);
  });

  it('source() renders the quoted raw relation and records it', () => {
    const out = render("SELECT * FROM {{ source('app', 'users') }}");
    expect(out.text).toBe('SELECT * FROM `raw`.`app__users`');
    expect(out.sources).toEqual([['app', 'users']]);
  });

  it('config() keyword arguments are collected and render nothing', () => {
    const out = render("{{ config(materialized='table', order_by=['id', 'day'], settings={'index_granularity': 128}) }}{{ config(tags=['nightly']) }}SELECT 1");
    expect(out.text).toBe('SELECT 1');
    expect(out.config).toEqual({ materialized: 'table', order_by: ['id', 'day'], settings: { index_granularity: 128 }, tags: ['nightly'] });
  });

  it('var() reads project vars, falls back to its default, and env_var() reads the environment', () => {
    expect(render("{{ var('days') }} {{ var('missing', 30) }} {{ var('data_root') }}/x").text).toBe('7 30 data/x');
    expect(render("{{ env_var('KILN_USER') }} {{ env_var('NOT_SET', 'fallback') }}").text).toBe('ana fallback');
  });

  it('is_incremental() follows the render input', () => {
    const code = '{% if is_incremental() %}incremental{% else %}full{% endif %}';
    expect(render(code).text).toBe('full');
    expect(render(code, { isIncremental: true }).text).toBe('incremental');
  });

  it('this is the model itself; target exposes name, engine and database', () => {
    expect(render('{{ this }} {{ this.name }}', { name: 'fact_reviews' }).text).toBe('<fact_reviews> fact_reviews');
    expect(render('{{ target.name }}/{{ target.engine }}/{{ target.database }}/{{ target.raw_database }}').text).toBe('dev/embedded/analytics/raw');
  });

  it('run_started_at and invocation_id render and mark the output volatile', () => {
    const plain = render('SELECT 1');
    expect(plain.volatile).toBe(false);
    const out = render("SELECT '{{ run_started_at }}', '{{ invocation_id }}'");
    expect(out.text).toBe("SELECT '2025-11-04 12:34:56', 'inv-123'");
    expect(out.volatile).toBe(true);
  });
});

describe('jinja as dbt projects write it', () => {
  it('{% set %}, loops with loop.last, filters and whitespace control', () => {
    const code = [
      "{%- set cols = ['a', 'b', 'c'] -%}",
      'SELECT',
      '{%- for c in cols %}',
      '  {{ c | upper }}{% if not loop.last %},{% endif %}',
      '{%- endfor %}',
      "FROM t WHERE g IN ('{{ var('genres') | join(\"', '\") }}') AND x = {{ none_such | default(42) }}",
    ].join('\n');
    expect(render(code).text).toBe("SELECT\n  A,\n  B,\n  C\nFROM t WHERE g IN ('drama', 'comedy') AND x = 42");
  });

  it('python string methods work on strings', () => {
    const out = render("{{ 'Drama'.upper() }} {{ '  x '.strip() }} {{ 'a,b'.split(',') | join('|') }} {{ 'abc'.startswith('a') }} {{ 'AbC'.lower() }} {{ ', '.join(['p', 'q']) }}");
    expect(out.text).toBe('DRAMA x a|b true abc p, q');
  });

  it('macros call macros defined in other files, and see ref/var', () => {
    const macros: MacroFile[] = [
      { path: 'macros/clean.sql', source: "{% macro clean(col) %}lower(trim({{ col }})){% endmacro %}" },
      {
        path: 'macros/cols.sql',
        source: "{% macro clean_all(cols) -%}{% for c in cols %}{{ clean(c) }} AS {{ c }}{{ ', ' if not loop.last }}{% endfor %}{%- endmacro %}\n{% macro from_users() %}{{ ref('stg_users') }}{% endmacro %}",
      },
    ];
    const eng = engine({ macros });
    expect([...eng.macroNames].sort()).toEqual(['clean', 'clean_all', 'from_users']);
    const out = render("SELECT {{ clean_all(['genre', 'role']) }} FROM {{ from_users() }}", { engine: eng });
    expect(out.text).toBe('SELECT lower(trim(genre)) AS genre, lower(trim(role)) AS role FROM <stg_users>');
    expect(out.refs).toEqual(['stg_users']);
  });

  it('macros take keyword arguments and defaults', () => {
    const eng = engine({ macros: [{ path: 'macros/m.sql', source: "{% macro cents(col, scale=100) %}({{ col }} * {{ scale }}){% endmacro %}" }] });
    expect(render('{{ cents("p") }} {{ cents("p", scale=10) }}', { engine: eng }).text).toBe('(p * 100) (p * 10)');
  });
});

describe('template errors carry file:line and a hint', () => {
  it('an unknown var names the file, the line and the closest var', () => {
    const err = renderError("SELECT 1\nFROM t\nWHERE d > {{ var('dayz') }}");
    expect(err.code).toBe('UNKNOWN_VAR');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 3 });
    expect(err.message).toContain("'dayz'");
    expect(err.hint).toContain("'days'");
  });

  it('an error on the first line still gets line 1', () => {
    const err = renderError("SELECT {{ var('nope') }}");
    expect(err.code).toBe('UNKNOWN_VAR');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 1 });
  });

  it('an unknown source names the file, the line and the closest source', () => {
    const err = renderError("SELECT 1\n\nFROM {{ source('app', 'user') }}");
    expect(err.code).toBe('UNKNOWN_SOURCE');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 3 });
    expect(err.hint).toContain("'app.users'");
  });

  it('an unset env var without default is an error naming the variable', () => {
    const err = renderError("SELECT '{{ env_var('NOPE_NOT_SET') }}'");
    expect(err.message).toContain('NOPE_NOT_SET');
    expect(err.location?.file).toBe('models/m.sql');
  });

  it('a syntax error gives the line', () => {
    const err = renderError('SELECT 1\n\n{% if %}\n{% endif %}');
    expect(err.code).toBe('TEMPLATE_ERROR');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 3 });
  });

  it('an unclosed block is an error, not silent output', () => {
    const err = renderError("SELECT 1\n{% for x in [1] %}{{ x }}");
    expect(err.code).toBe('TEMPLATE_ERROR');
    expect(err.location?.file).toBe('models/m.sql');
  });

  it('a syntax error in a macro file names that file, and every broken file is reported', () => {
    const e = engine({
      macros: [
        { path: 'macros/bad.sql', source: '{% macro broken( %}x{% endmacro %}' },
        { path: 'macros/good.sql', source: '{% macro fine() %}1{% endmacro %}' },
        { path: 'macros/worse.sql', source: '{% macro other() %}{% if %}{% endmacro %}' },
      ],
    });
    expect(e.macroErrors.map((err) => err.location?.file)).toEqual(['macros/bad.sql', 'macros/worse.sql']);
    expect(e.macroErrors.every((err) => err instanceof KilnError && err.code === 'TEMPLATE_ERROR')).toBe(true);
    // The good file still loaded.
    expect(e.macroNames.has('fine')).toBe(true);
  });

  it('exceptions.raise_compiler_error stops with the message', () => {
    const err = renderError("{{ exceptions.raise_compiler_error('days must be positive') }}");
    expect(err.message).toBe('days must be positive');
  });
});

describe('runaway templates fail with their file, never hang or crash', () => {
  it('range() refuses to build a billion-item list', () => {
    const err = renderError('SELECT 1\n{% for i in range(1000000000) %}{{ i }}{% endfor %}');
    expect(err.code).toBe('TEMPLATE_ERROR');
    expect(err.message).toBe('range() of 1000000000 items is more than kiln renders (at most 1000000)');
    expect(err.location?.file).toBe('models/m.sql');
    // range() still behaves as nunjucks' own within the limit.
    expect(render('{% for i in range(3) %}{{ i }}{% endfor %}|{% for i in range(2, 8, 3) %}{{ i }}{% endfor %}|{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}').text).toBe('012|25|321');
  });

  it('a loop past the time budget is stopped, in a model and in a macro', () => {
    const limits = { timeoutMs: 300, maxOutput: 64 * 2 ** 20, maxRangeItems: 1_000_000 };
    const started = Date.now();
    const err = renderError('{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}', engine({ limits }));
    expect(err.message).toBe('rendering took longer than 0.3 s and was stopped');
    expect(err.location?.file).toBe('models/m.sql');
    // Stopped near the budget, not after the loop's trillion iterations (generous for a loaded machine).
    expect(Date.now() - started).toBeLessThan(30_000);
    const slow = engine({ limits, macros: [{ path: 'macros/spin.sql', source: '{% macro spin() %}{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}{% endmacro %}' }] });
    expect(renderError('SELECT {{ spin() }}', slow).message).toBe('rendering took longer than 0.3 s and was stopped (in macro macros/spin.sql:1)');
  });

  it('output past the size limit fails with the file', () => {
    const limits = { timeoutMs: 10_000, maxOutput: 1000, maxRangeItems: 1_000_000 };
    const err = renderError('{% for i in range(500) %}xxxxxxxx{% endfor %}', engine({ limits }));
    expect(err.message).toMatch(/^the rendered SQL is [\d.]+ MB, over the limit of [\d.]+ MB$/);
    expect(err.location?.file).toBe('models/m.sql');
    expect(render('{% for i in range(10) %}x{% endfor %}', { engine: engine({ limits }) }).text).toBe('xxxxxxxxxx');
  });

  it('the limits come from KILN_RENDER_TIMEOUT_SECONDS and KILN_RENDER_MAX_OUTPUT_MB', () => {
    const e = engine({ scope: { vars: {}, env: { KILN_RENDER_MAX_OUTPUT_MB: '0.0005' } } });
    expect(renderError('{% for i in range(100) %}xxxxxxxxxx{% endfor %}', e).message).toMatch(/over the limit/);
  });
});
