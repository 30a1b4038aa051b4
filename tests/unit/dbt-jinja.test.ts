import { describe, expect, it } from 'vitest';
import { KilnError } from '../../src/errors.js';
import type { MacroFile } from '../../src/project/nodes.js';
import { AnswerBook } from '../../src/template/introspection.js';
import { resolvePlaceholders, sourcePlaceholder } from '../../src/template/placeholders.js';
import { sourceRelationsOf, TemplateEngine, type RenderInput, type TemplateEngineOptions } from '../../src/template/template-engine.js';

/** Jinja as dbt renders it: each construct dbt projects and packages use. */

function engine(macros: MacroFile[] = [], overrides: Partial<TemplateEngineOptions> = {}): TemplateEngine {
  return new TemplateEngine({
    projectName: 'shop',
    scope: { vars: {}, env: {} },
    target: { name: 'dev', engine: 'embedded', database: 'analytics', raw_database: 'raw' },
    runStartedAt: new Date('2025-11-04T12:34:56Z'),
    invocationId: 'inv',
    sources: sourceRelationsOf(new Map([['app', new Map([['users', '`raw`.`app__users`']])]])),
    macros,
    ...overrides,
  });
}

function render(code: string, eng: TemplateEngine = engine(), extra: Partial<RenderInput> = {}): string {
  const out = eng.render({ name: 'm', file: 'models/m.sql', code, ...extra });
  return resolvePlaceholders(out.sql, (n) => `<${n}>`).trim();
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

const macro = (path: string, source: string): MacroFile => ({ path, source });

describe('macros as dbt writes them', () => {
  it('return() hands back lists, dicts and numbers, not only strings', () => {
    const eng = engine([
      macro('macros/values.sql', `
{% macro cols() %}{{ return(['a', 'b']) }}{% endmacro %}
{% macro conf() %}{% do return({'n': 3, 'k': 'v'}) %}{% endmacro %}
{% macro three() %}{{ return(1 + 2) }} ignored{% endmacro %}`),
    ]);
    expect(render("{% set c = cols() %}{{ c | length }}:{{ c | join('|') }} {{ conf().n }}{{ conf()['k'] }} {{ three() * 2 }}", eng)).toBe('2:a|b 3v 6');
  });

  it('{% do %} runs an expression for its effect and prints nothing', () => {
    expect(render("{% set xs = [] %}{% do xs.append(1) %}{% do xs.extend([2, 3]) %}{% set d = {} %}{% do d.update({'a': 1}) %}{{ xs | join(',') }} {{ d.a }}")).toBe('1,2,3 1');
  });

  it('**kwargs and *varargs: arguments a macro does not declare', () => {
    const eng = engine([
      macro('macros/args.sql', `
{% macro show(a) %}{{ a }}[{{ varargs | join(',') }}]{% for k, v in kwargs.items() %}{{ k }}={{ v }};{% endfor %}{% endmacro %}`),
    ]);
    expect(render("{{ show(1, 2, 3, x='y', z=4) }}", eng)).toBe('1[2,3]x=y;z=4;');
    expect(render('{{ show(1) }}', eng)).toBe('1[]');
  });

  it('macros named _x are callable from another file', () => {
    const eng = engine([macro('macros/a.sql', "{% macro _private(x) %}<{{ x }}>{% endmacro %}"), macro('macros/b.sql', "{% macro pub() %}{{ _private('p') }}{% endmacro %}")]);
    expect(render("{{ pub() }} {{ _private('m') }}", eng)).toBe('<p> <m>');
  });

  it('dict literals take expression keys; a bare undefined name stays a string key', () => {
    expect(render("{% set k = 'dyn' %}{% set c = {'name': 'col'} %}{% set d = {k: 1, c.name: 2, ('x' ~ 'y'): 3, plain: 4} %}{{ d.dyn }}{{ d.col }}{{ d.xy }}{{ d.plain }}")).toBe('1234');
  });

  it('caller() passes a block to a macro', () => {
    const eng = engine([macro('macros/wrap.sql', '{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}')]);
    expect(render("{% call wrap('b') %}inside{% endcall %}", eng)).toBe('<b>inside</b>');
  });

  it('namespace() keeps values set in a loop', () => {
    expect(render('{% set ns = namespace(total=0, seen=[]) %}{% for i in [1, 2, 3] %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }}')).toBe('6');
  });

  it('zip, tojson/fromjson, toyaml/fromyaml', () => {
    expect(render("{% for a, b in zip(['x', 'y'], [1, 2]) %}{{ a }}{{ b }}{% endfor %}")).toBe('x1y2');
    expect(render("{{ tojson({'a': [1, 'b']}) }} {{ fromjson('{\"k\": 5}').k }} {{ {'x': 1} | tojson }}")).toBe('{"a": [1, "b"]} 5 {"x": 1}');
    expect(render("{{ fromyaml('a: [1, 2]').a | length }} {{ toyaml({'k': 'v'}) | trim }}")).toBe('2 k: v');
  });

  it('Python string, list and dict methods', () => {
    expect(render("{{ 'a_{}_{}'.format('b', 2) }} {{ '{x}-{0}'.format(1, x='y') }} {{ ' Hi '.strip().upper() }} {{ 'a,b'.split(',') | length }} {{ 'abc'.startswith('ab') }}")).toBe('a_b_2 y-1 HI 2 true');
    expect(render("{% set d = {'a': 1, 'b': 2} %}{{ d.keys() | join(',') }} {{ d.get('z', 9) }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ ', '.join(['x', 'y']) }}")).toBe('a,b 9 a1b2 x, y');
    const eng = engine([macro('macros/m.sql', '{% macro name() %}  Widget  {% endmacro %}')]);
    expect(render('{{ name().strip().lower() }}', eng)).toBe('widget');
  });

  it('exceptions, log and print', () => {
    const eng = engine();
    expect(render("{% do log('hello', info=True) %}{% do print('p') %}{% do log('quiet') %}{{ exceptions.warn('careful') }}x", eng)).toBe('x');
    expect(eng.logs).toEqual(['hello', 'p']);
    expect(eng.warnings.map((w) => w.message)).toEqual(['careful']);
    expect(renderError("{{ exceptions.raise_compiler_error('bad input') }}").message).toBe('bad input');
  });

  it('modules.datetime, modules.re, modules.itertools', () => {
    expect(render("{{ modules.datetime.datetime.now().strftime('%Y-%m-%d') }} {{ modules.datetime.datetime.strptime('2024-02-03', '%Y-%m-%d').day }}")).toBe('2025-11-04 3');
    expect(render("{{ modules.re.sub('[^a-z]+', '_', 'Hello World!') }} {{ modules.re.search('(\\\\d+)-(?P<b>\\\\d+)', 'x12-34').group('b') }} {{ modules.re.match('b', 'ab') is none }}")).toBe('_ello_orld_ 34 true');
    expect(render("{{ modules.itertools.product([1, 2], ['a']) | length }} {{ modules.itertools.chain([1], [2, 3]) | join }}")).toBe('2 123');
  });

  it('filters and tests nunjucks lacks: map, unique, is none, is mapping', () => {
    expect(render("{% set cs = [{'name': 'a'}, {'name': 'b'}, {'name': 'a'}] %}{{ cs | map(attribute='name') | unique | join(',') }} {{ ['a'] | map('upper') | join }} {{ none is none }} {{ {} is mapping }}")).toBe('a,b A true true');
  });
});

describe('adapter.dispatch', () => {
  const files = [
    macro('macros/dispatch.sql', `
{% macro greet(x) %}{{ return(adapter.dispatch('greet', 'shop')(x)) }}{% endmacro %}
{% macro default__greet(x) %}default {{ x }}{% endmacro %}
{% macro only_default() %}{{ adapter.dispatch('only_default')() }}{% endmacro %}
{% macro default__only_default() %}D{% endmacro %}`),
  ];

  it('prefers clickhouse__ over default__ and falls back to default__', () => {
    expect(render("{{ greet('a') }} {{ only_default() }}", engine(files))).toBe('default a D');
    const withClickhouse = engine([...files, macro('macros/ch.sql', '{% macro clickhouse__greet(x) %}ch {{ x }}{% endmacro %}')]);
    expect(render("{{ greet('a') }}", withClickhouse)).toBe('ch a');
  });

  it('an unknown dispatched macro names what was searched', () => {
    const err = renderError("{{ adapter.dispatch('nope', 'pkg')() }}");
    expect(err.message).toBe("adapter.dispatch('nope', 'pkg') found no macro clickhouse__nope or default__nope");
    expect(err.hint).toContain('shop, pkg');
  });

  it('honours the dispatch: search order', () => {
    const eng = engine(files, { dispatch: [{ macro_namespace: 'shop', search_order: ['shop'] }] });
    expect(render("{{ greet('b') }}", eng)).toBe('default b');
  });
});

describe('what kiln lacks, and errors inside macros', () => {
  it('names the function kiln does not provide', () => {
    expect(renderError('{{ adapter.drop_schema() }}').message).toBe('kiln does not provide adapter.drop_schema');
    expect(renderError('{{ dbt.no_such_macro() }}').message).toBe('kiln does not provide dbt.no_such_macro');
    const err = renderError('SELECT 1\n{{ not_a_macro(1) }}');
    expect(err.message).toBe('kiln does not provide not_a_macro: no macro or function of that name');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 2 });
  });

  it('an error inside a macro points at the macro file line and the call site', () => {
    const eng = engine([macro('macros/boom.sql', "{% macro inner() %}\nok\n{{ exceptions.raise_compiler_error('inner failed') }}\n{% endmacro %}\n{% macro outer() %}\n{{ inner() }}\n{% endmacro %}")]);
    const err = renderError('SELECT\n\n{{ outer() }}', eng);
    expect(err.message).toBe('inner failed (in macro macros/boom.sql:3, called from macros/boom.sql:6)');
    expect(err.location).toEqual({ file: 'models/m.sql', line: 3 });
  });

  it('a failed return() leaves the model template working (frames are restored)', () => {
    expect(render("{% macro early(x) %}{% if x %}{{ return('yes') }}{% endif %}no{% endmacro %}{% set v = 'kept' %}{{ early(1) }} {{ v }} {% for i in [1] %}{{ early(0) }}{{ v }}{% endfor %}")).toBe('yes kept nokept');
  });
});

describe('introspection', () => {
  const files = [
    macro('macros/cols.sql', `
{% macro col_list(rel) %}
{%- if not execute -%}{{ return('*') }}{%- endif -%}
{%- set cols = adapter.get_columns_in_relation(rel) -%}
{{ return(cols | map(attribute='name') | join(', ')) }}
{% endmacro %}`),
  ];

  it('compile renders with execute = false and marks the render as introspective', () => {
    const eng = engine(files);
    const out = eng.render({ name: 'm', file: 'models/m.sql', code: "SELECT {{ col_list(ref('base')) }} FROM {{ ref('base') }}{% if execute %}{% set r = run_query('SELECT 1') %}{% endif %}" });
    expect(resolvePlaceholders(out.sql, (n) => n)).toBe('SELECT * FROM base');
    // It read `execute`: it renders differently when it executes, so it is rendered again then.
    expect(out.introspective).toBe(true);
    expect(eng.render({ name: 'm', file: 'models/m.sql', code: "{% set r = run_query('SELECT 1') %}x" }).introspective).toBe(true);
    expect(eng.render({ name: 'm', file: 'models/m.sql', code: "SELECT {{ dbt.hash('x') }} FROM {{ ref('base') }}" }).introspective).toBe(false);
  });

  it('a source declaring event_time renders as a placeholder, and introspection asks about its real table', () => {
    const sources = {
      ...sourceRelationsOf(new Map([['app', new Map([['clicks', sourcePlaceholder('app', 'clicks')]])]])),
      actual: (s: string, t: string) => (s === 'app' && t === 'clicks' ? '`raw`.`app__clicks`' : undefined),
    };
    const eng = engine(files, { sources });
    const book = new AnswerBook();
    const out = eng.render({ name: 'm', file: 'models/m.sql', code: "SELECT {{ col_list(source('app', 'clicks')) }} FROM {{ source('app', 'clicks') }}", answers: book });
    expect(out.sql).toBe(`SELECT  FROM ${sourcePlaceholder('app', 'clicks')}`);
    expect([...book.missing.values()]).toEqual([{ kind: 'columns', database: 'raw', table: 'app__clicks' }]);
  });

  it('at execution it reads the warehouse through the answers given', () => {
    const eng = engine(files);
    const book = new AnswerBook();
    const code = "{% set r = run_query('SELECT n FROM t') %}SELECT {{ col_list(ref('base')) }}, {{ r.columns[0].values() | join('+') }}{% call statement('s', fetch_result=True) %}SELECT 2{% endcall %} {{ load_result('s')['data'][0][0] }}";
    const refRelation = (name: string) => ({ database: 'analytics', table: name });
    eng.render({ name: 'm', file: 'models/m.sql', code, answers: book, refRelation });
    expect([...book.missing.values()]).toEqual([
      { kind: 'query', sql: 'SELECT n FROM t' },
      { kind: 'columns', database: 'analytics', table: 'base' },
      { kind: 'query', sql: 'SELECT 2' },
    ]);
    book.record({ kind: 'query', sql: 'SELECT n FROM t' }, { columns: ['n'], rows: [[1], [2]] });
    book.record({ kind: 'columns', database: 'analytics', table: 'base' }, [{ name: 'id', type: 'UInt64' }, { name: 'label', type: 'String' }]);
    book.record({ kind: 'query', sql: 'SELECT 2' }, { columns: ['x'], rows: [[2]] });
    const out = eng.render({ name: 'm', file: 'models/m.sql', code, answers: book, refRelation });
    expect(resolvePlaceholders(out.sql, (n) => n)).toBe('SELECT id, label, 1+2 2');
    expect(book.missing.size).toBe(0);
  });

  it("a result table's columns are a mapping too (agate): .items() and .keys()", () => {
    const book = new AnswerBook();
    book.record({ kind: 'query', sql: 'SELECT 1' }, { columns: ['a', 'b'], rows: [[1, 'x'], [2, 'y']] });
    const code = "{% set cols = run_query('SELECT 1').columns %}{% for name, col in cols.items() %}{{ name }}={{ col.values() | join('/') }};{% endfor %}{{ cols.keys() | join(',') }}";
    expect(render(code, engine(), { answers: book })).toBe('a=1/2;b=x/y;a,b');
  });

  it("a column reads the type inside Nullable/LowCardinality, and has dbt's string_size()", () => {
    const book = new AnswerBook();
    book.record({ kind: 'columns', database: 'analytics', table: 'base' }, [
      { name: 'a', type: 'LowCardinality(Nullable(String))' },
      { name: 'b', type: 'FixedString(3)' },
      { name: 'c', type: 'Nullable(Float64)' },
      { name: 'd', type: 'Array(String)' },
    ]);
    const code = "{% for c in adapter.get_columns_in_relation(ref('base')) %}{{ c.name }}:{{ 's' if c.is_string() }}{{ 'f' if c.is_float() }}{{ 'n' if c.is_nullable }}{{ c.string_size() if c.is_string() }};{% endfor %}";
    const refRelation = (name: string) => ({ database: 'analytics', table: name });
    expect(render(code, engine(), { answers: book, refRelation })).toBe('a:sn256;b:s3;c:fn;d:;');
  });

  it('relations: this, api.Relation.create, adapter.quote', () => {
    expect(render("{{ this.name }} {{ this.schema }} {{ api.Relation.create(schema='db', identifier='t') }} {{ api.Relation.create(schema='db', identifier='t').identifier }} {{ adapter.quote('a b') }}")).toBe('m analytics `db`.`t` t `a b`');
  });
});

describe('dbt cross-database macros', () => {
  it('kiln ships them without errors', () => {
    expect(engine().macroErrors).toEqual([]);
  });

  it('render ClickHouse SQL, as dbt.x and unqualified', () => {
    const eng = engine();
    expect(render("{{ dbt.type_string() }} {{ type_timestamp() }} {{ dbt.type_int() }} {{ dbt.type_bigint() }} {{ dbt.type_float() }}", eng)).toBe('String DateTime Int32 Int64 Float64');
    expect(render("{{ dbt.dateadd('day', 3, 'd') }}", eng)).toBe('(d + toIntervalDay(3))');
    expect(render("{{ dbt.date_trunc('month', 'd') }} {{ date_trunc('week', 'd') }}", eng)).toBe('toStartOfMonth(d) toMonday(d)');
    expect(render("{{ dbt.datediff('a', 'b', 'day') }}", eng)).toBe("dateDiff('day', toDateTime(a), toDateTime(b))");
    expect(render("{{ dbt.concat(['a', \"'-'\", 'b']) }} {{ dbt.hash('x') }}", eng)).toBe("concat(a, '-', b) lower(hex(MD5(toString(x))))");
    expect(render("{{ dbt.split_part('s', \"','\", 2) }} {{ dbt.string_literal('v') }} {{ dbt.escape_single_quotes(\"it's\") }}", eng)).toBe("splitByString(',', s)[2] 'v' it\\'s");
    expect(render("{{ dbt.listagg('name', \"', '\", 'order by id desc', 2) }}", eng)).toBe("arrayStringConcat(arraySlice(arrayMap(x -> x.2, arrayReverseSort(x -> x.1, groupArray((id, name)))), 1, 2), ', ')");
    expect(render('{{ dbt.current_timestamp() }} {{ dbt.except() }} {{ dbt.intersect() }} {{ dbt.safe_cast("x", "Int64") }}', eng)).toBe("now() EXCEPT INTERSECT accurateCastOrNull(x, 'Int64')");
  });

  it('a project macro clickhouse__x overrides kiln\'s, without a warning', () => {
    const eng = engine([macro('macros/ch.sql', "{% macro clickhouse__type_string() %}{{ return('LowCardinality(String)') }}{% endmacro %}")]);
    expect(render('{{ dbt.type_string() }}', eng)).toBe('LowCardinality(String)');
    expect(eng.warnings).toEqual([]);
  });
});

describe('*args and **kwargs in calls', () => {
  it('spread into the called macro', () => {
    const eng = engine([
      macro('macros/fwd.sql', `
{% macro target_macro(a, b, c=0) %}{{ a }}{{ b }}{{ c }}{% for k, v in kwargs.items() %} {{ k }}={{ v }}{% endfor %}{% endmacro %}
{% macro forward(a) %}{{ target_macro(a, *varargs, **kwargs) }}{% endmacro %}`),
    ]);
    expect(render("{{ forward(1, 2, c=3, extra='x') }} {{ forward(1, 2) }}", eng)).toBe('123 extra=x 120');
    expect(render('{{ 2 ** 3 }} SELECT count(*) FROM t', eng)).toBe('8 SELECT count(*) FROM t');
  });
});

describe('keyword arguments named like a global', () => {
  it('stay names (a macro except= argument while dbt.except exists)', () => {
    expect(render("{% macro s(from, except=[]) %}{{ except | join(',') }}{% endmacro %}{{ s(1, except=['amount', 'x']) }}")).toBe('amount,x');
  });
});

describe('Python semantics nunjucks lacks', () => {
  it('empty lists and dicts are false; and/or return an operand', () => {
    expect(render("{% if [] %}a{% else %}b{% endif %}{% if {} %}c{% else %}d{% endif %}{{ 'e' if not [] }}{{ ([] and 'x') | length }}{{ [] or 'f' }}{{ 'g' and 'h' }}")).toBe('bde0fh');
    expect(render("{% set exclude = [] %}{% set include = [] %}{% if exclude and include %}both{% else %}neither{% endif %}")).toBe('neither');
  });

  it('trailing commas in calls, lists and dicts', () => {
    const eng = engine([macro('macros/m.sql', '{% macro pair(a, b=2) %}{{ a }}{{ b }}{% endmacro %}')]);
    expect(render("{{ pair(\n  1,\n  b=3,\n) }} {{ [1, 2,] | length }} {{ {'k': 1,}.k }}", eng)).toBe('13 2 1');
  });

  it('a call whose callee is a multi-line string literal', () => {
    expect(render("{{ 'a \\\nb {}'.format(1) }}")).toBe('a \nb 1');
  });
});

describe('== on lists, dicts and sets', () => {
  it('compares by value, as Python does', () => {
    expect(render("{{ [1, 2] == [1, 2] }} {{ set(['b', 'a']) != set(['a', 'b']) }} {{ {'k': [1]} == {'k': [1]} }} {{ 'a' == 'a' }} {{ [1] != [2] }}")).toBe('true false true true true');
  });
});

describe('+ on lists, and {% set ns.x %} blocks', () => {
  it('two lists concatenate (dbt_utils: [\'id\'] + group_by_columns); numbers and text add as before', () => {
    expect(render("{{ (['id'] + ['a', 'b']) | join(',') }} {{ (['id'] + []) | length }} {{ 1 + 2 }} {{ 'a' + 'b' }} {{ 1.5 + 1 }}")).toBe('id,a,b 1 3 ab 2.5');
  });

  it('a block set on a namespace attribute keeps the block’s text', () => {
    expect(render("{% set ns = namespace(msg='') %}{% for i in [1, 2] %}{% set ns.msg %}item {{ i }}{% endset %}{% endfor %}[{{ ns.msg }}]")).toBe('[item 2]');
  });
});

describe("Jinja's loop filter: {% for x in xs if cond %}", () => {
  it('loops over the items that pass, with loop.last counting only them', () => {
    expect(render('{% for x in [1, 2, 3, 4, 5] if x is odd %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}')).toBe('1,3,5');
  });

  it('unpacks pairs, keeps whitespace control, and leaves a parenthesised conditional iterable alone', () => {
    expect(render("{%- for k, v in {'a': 1, 'b': 2, 'c': 3}.items() if v > 1 -%}{{ k }}={{ v }};{%- endfor %}")).toBe('b=2;c=3;');
    expect(render("{% for x in ([1, 2] if true else [3]) %}{{ x }}{% endfor %}")).toBe('12');
    expect(render("{% for x in [1, 2] if false else [3] %}{{ x }}{% endfor %}")).toBe('3');
    expect(render("{% set cols = ['id', 'name', 'email'] %}{% for c in cols if c not in ['email'] %}{{ c }}{{ ', ' if not loop.last }}{% endfor %}")).toBe('id, name');
  });

  it('keeps the lines of the template, so errors after it still point at their line', () => {
    const err = renderError("{% for x in [1] if x %}{{ x }}{% endfor %}\n{{ nope() }}");
    expect(err.location?.line).toBe(2);
  });
});


describe('adapter.drop_relation', () => {
  it('asks for one DROP of the relation, ON CLUSTER the target’s cluster when it has one', () => {
    const drop = "{% do adapter.drop_relation(api.Relation.create(schema='analytics', identifier='old')) %}select 1";
    expect(engine().render({ name: 'm', file: 'models/m.sql', code: drop }).statements).toEqual(['DROP TABLE IF EXISTS `analytics`.`old`']);
    const clustered = engine([], { target: { name: 'prod', engine: 'http', database: 'analytics', raw_database: 'raw', cluster: 'kiln_cluster' } });
    expect(clustered.render({ name: 'm', file: 'models/m.sql', code: drop }).statements).toEqual(['DROP TABLE IF EXISTS `analytics`.`old` ON CLUSTER `kiln_cluster`']);
    // `this` stays a placeholder, resolved where the hook runs; the clause follows it.
    const self = clustered.render({ name: 'm', file: 'models/m.sql', code: "{% do adapter.drop_relation(this) %}" }).statements;
    expect(self?.map((s) => resolvePlaceholders(s, (n) => `<${n}>`))).toEqual(['DROP TABLE IF EXISTS <m> ON CLUSTER `kiln_cluster`']);
  });
});
