import type { MacroFile } from '../project/nodes.js';

/**
 * dbt's cross-database macros (dbt-adapters' utils) written for ClickHouse: each is a macro `x`
 * that dispatches (`adapter.dispatch('x', 'dbt')`) to kiln's `clickhouse__x`, so a project can
 * override one by defining its own `clickhouse__x`. The template engine exposes them as `dbt.x`
 * and, as dbt does, unqualified. ClickHouse names: toStartOf<Part> and toInterval<Part> for dates (they exist on
 * every supported version), String/Int64/Float64 for types.
 */
const DISPATCHED: ReadonlyArray<readonly [string, string]> = [
  ['date_trunc', 'datepart, date'],
  ['dateadd', 'datepart, interval, from_date_or_timestamp'],
  ['datediff', 'first_date, second_date, datepart'],
  ['last_day', 'date, datepart'],
  ['type_string', ''],
  ['type_timestamp', ''],
  ['type_float', ''],
  ['type_numeric', ''],
  ['type_bigint', ''],
  ['type_int', ''],
  ['type_boolean', ''],
  ['safe_cast', 'field, type'],
  ['hash', 'field'],
  ['concat', 'fields'],
  ['replace', 'field, old_chars, new_chars'],
  ['length', 'expression'],
  ['position', 'substring_text, string_text'],
  ['right', 'string_text, length_expression'],
  ['split_part', 'string_text, delimiter_text, part_number'],
  ['string_literal', 'value'],
  ['escape_single_quotes', 'expression'],
  ['listagg', 'measure, delimiter_text="\',\'", order_by_clause=none, limit_num=none'],
  ['any_value', 'expression'],
  ['bool_or', 'expression'],
  ['array_construct', 'inputs=[], data_type="String"'],
  ['array_append', 'array, new_element'],
  ['array_concat', 'array_1, array_2'],
  ['cast_bool_to_text', 'field'],
  ['current_timestamp', ''],
  ['current_timestamp_backcompat', ''],
  ['current_timestamp_in_utc_backcompat', ''],
  ['except', ''],
  ['intersect', ''],
  ['get_powers_of_two', 'upper_bound'],
  ['generate_series', 'upper_bound'],
  ['date_spine', 'datepart, start_date, end_date'],
  ['cast', 'field, type'],
  ['generate_schema_name', 'custom_schema_name=none, node=none'],
  ['generate_alias_name', 'custom_alias_name=none, node=none'],
  ['generate_database_name', 'custom_database_name=none, node=none'],
];

/** `DateTime` parts ClickHouse truncates with toStartOf<Part> (week: Monday, as dbt's default). */
const IMPLEMENTATIONS = `
{% macro clickhouse__date_trunc(datepart, date) -%}
{%- set part = datepart | trim | lower -%}
{%- if part == 'week' -%}toMonday({{ date }})
{%- elif part in ['year', 'quarter', 'month', 'day', 'hour', 'minute'] -%}toStartOf{{ part | capitalize }}({{ date }})
{%- elif part == 'second' -%}toStartOfSecond({{ date }})
{%- else -%}{{ exceptions.raise_compiler_error("date_trunc: unknown date part '" ~ datepart ~ "'") }}
{%- endif -%}
{%- endmacro %}

{% macro clickhouse__dateadd(datepart, interval, from_date_or_timestamp) -%}
({{ from_date_or_timestamp }} + toInterval{{ datepart | trim | lower | capitalize }}({{ interval }}))
{%- endmacro %}

{% macro clickhouse__datediff(first_date, second_date, datepart) -%}
dateDiff('{{ datepart | trim | lower }}', toDateTime({{ first_date }}), toDateTime({{ second_date }}))
{%- endmacro %}

{% macro clickhouse__last_day(date, datepart) -%}
toDate({{ dbt.date_trunc(datepart, date) }} + toInterval{{ datepart | trim | lower | capitalize }}(1) - toIntervalDay(1))
{%- endmacro %}

{% macro clickhouse__type_string() %}{{ return('String') }}{% endmacro %}
{% macro clickhouse__type_timestamp() %}{{ return('DateTime') }}{% endmacro %}
{% macro clickhouse__type_float() %}{{ return('Float64') }}{% endmacro %}
{% macro clickhouse__type_numeric() %}{{ return('Decimal(38, 6)') }}{% endmacro %}
{% macro clickhouse__type_bigint() %}{{ return('Int64') }}{% endmacro %}
{% macro clickhouse__type_int() %}{{ return('Int32') }}{% endmacro %}
{% macro clickhouse__type_boolean() %}{{ return('Bool') }}{% endmacro %}

{% macro clickhouse__safe_cast(field, type) -%}
accurateCastOrNull({{ field }}, '{{ type }}')
{%- endmacro %}

{% macro clickhouse__cast(field, type) -%}
CAST({{ field }} AS {{ type }})
{%- endmacro %}

{% macro clickhouse__hash(field) -%}
lower(hex(MD5(toString({{ field }}))))
{%- endmacro %}

{% macro clickhouse__concat(fields) -%}
concat({{ fields | join(', ') }})
{%- endmacro %}

{% macro clickhouse__replace(field, old_chars, new_chars) -%}
replaceAll({{ field }}, {{ old_chars }}, {{ new_chars }})
{%- endmacro %}

{% macro clickhouse__length(expression) -%}
length({{ expression }})
{%- endmacro %}

{% macro clickhouse__position(substring_text, string_text) -%}
position({{ string_text }}, {{ substring_text }})
{%- endmacro %}

{% macro clickhouse__right(string_text, length_expression) -%}
if(({{ length_expression }}) = 0, '', substring({{ string_text }}, -({{ length_expression }})))
{%- endmacro %}

{% macro clickhouse__split_part(string_text, delimiter_text, part_number) -%}
splitByString({{ delimiter_text }}, {{ string_text }})[{{ part_number }}]
{%- endmacro %}

{% macro clickhouse__string_literal(value) -%}
'{{ value }}'
{%- endmacro %}

{% macro clickhouse__escape_single_quotes(expression) -%}
{{ expression | replace("\\\\", "\\\\\\\\") | replace("'", "\\\\'") }}
{%- endmacro %}

{% macro clickhouse__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
{%- if order_by_clause -%}
{%- set order = modules.re.sub('^\\\\s*order\\\\s+by\\\\s+', '', order_by_clause, 0, modules.re.IGNORECASE) -%}
{%- set descending = modules.re.search('\\\\s+desc\\\\s*$', order, modules.re.IGNORECASE) -%}
{%- set order = modules.re.sub('\\\\s+(asc|desc)\\\\s*$', '', order, 0, modules.re.IGNORECASE) -%}
{%- set values = 'arrayMap(x -> x.2, ' ~ ('arrayReverseSort' if descending else 'arraySort') ~ '(x -> x.1, groupArray((' ~ order ~ ', ' ~ measure ~ '))))' -%}
{%- else -%}
{%- set values = 'groupArray(' ~ measure ~ ')' -%}
{%- endif -%}
arrayStringConcat({% if limit_num %}arraySlice({{ values }}, 1, {{ limit_num }}){% else %}{{ values }}{% endif %}, {{ delimiter_text }})
{%- endmacro %}

{% macro clickhouse__any_value(expression) -%}
any({{ expression }})
{%- endmacro %}

{% macro clickhouse__bool_or(expression) -%}
max({{ expression }})
{%- endmacro %}

{% macro clickhouse__array_construct(inputs, data_type) -%}
{%- if inputs | length > 0 -%}[{{ inputs | join(', ') }}]{%- else -%}CAST([] AS Array({{ data_type }})){%- endif -%}
{%- endmacro %}

{% macro clickhouse__array_append(array, new_element) -%}
arrayPushBack({{ array }}, {{ new_element }})
{%- endmacro %}

{% macro clickhouse__array_concat(array_1, array_2) -%}
arrayConcat({{ array_1 }}, {{ array_2 }})
{%- endmacro %}

{% macro clickhouse__cast_bool_to_text(field) -%}
multiIf(({{ field }}) IS NULL, NULL, ({{ field }}) != 0, 'true', 'false')
{%- endmacro %}

{% macro clickhouse__current_timestamp() %}now(){% endmacro %}
{% macro clickhouse__current_timestamp_backcompat() %}now(){% endmacro %}
{% macro clickhouse__current_timestamp_in_utc_backcompat() %}now('UTC'){% endmacro %}

{% macro clickhouse__except() %}EXCEPT{% endmacro %}
{% macro clickhouse__intersect() %}INTERSECT{% endmacro %}

{% macro clickhouse__get_powers_of_two(upper_bound) -%}
{%- if upper_bound <= 0 -%}{{ exceptions.raise_compiler_error("upper bound must be positive") }}{%- endif -%}
{%- for _ in range(1, 100) -%}{%- if upper_bound <= 2 ** loop.index -%}{{ return(loop.index) }}{%- endif -%}{%- endfor -%}
{%- endmacro %}

{% macro clickhouse__generate_series(upper_bound) -%}
SELECT toInt64(number + 1) AS generated_number FROM numbers({{ upper_bound }})
{%- endmacro %}

{% macro clickhouse__date_spine(datepart, start_date, end_date) -%}
SELECT * FROM (
SELECT {{ dbt.dateadd(datepart, 'number', start_date) }} AS date_{{ datepart }}
FROM numbers(toUInt64(greatest(0, {{ dbt.datediff(start_date, end_date, datepart) }})))
) WHERE date_{{ datepart }} < {{ end_date }}
{%- endmacro %}

{% macro default__generate_schema_name(custom_schema_name, node) -%}
{%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ target.schema }}_{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}

{% macro default__generate_alias_name(custom_alias_name=none, node=none) -%}
{%- if custom_alias_name -%}{{ custom_alias_name | trim }}{%- else -%}{{ node.name }}{%- endif -%}
{%- endmacro %}

{% macro default__generate_database_name(custom_database_name=none, node=none) -%}
{%- if custom_database_name is none -%}{{ target.database }}{%- else -%}{{ custom_database_name | trim }}{%- endif -%}
{%- endmacro %}
`;

function dispatcher([name, params]: readonly [string, string]): string {
  // Parameter names: the text before each `=default`, defaults holding no `=` or `,` of their own
  // but quoted ones ("','"), which are removed first.
  const args = params
    .replace(/"[^"]*"/g, '""')
    .split(',')
    .map((p) => p.trim().split('=')[0]!)
    .filter(Boolean)
    .join(', ');
  return `{% macro ${name}(${params}) %}{{ return(adapter.dispatch('${name}', 'dbt')(${args})) }}{% endmacro %}`;
}

export const CROSS_DATABASE_MACROS_FILE: MacroFile = {
  path: '<kiln>/cross_database_macros.sql',
  source: [...DISPATCHED.map(dispatcher), IMPLEMENTATIONS].join('\n'),
};
