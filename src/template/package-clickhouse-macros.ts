import type { MacroFile } from '../project/nodes.js';

/**
 * ClickHouse versions of macros that packages dispatch (`adapter.dispatch(name, 'dbt_utils')`)
 * and whose `default__` version cannot run on ClickHouse as written: the part an adapter would
 * ship for the package (dbt-clickhouse tried to, for union_relations). adapter.dispatch takes
 * one of these after the package's own `clickhouse__` macro and before its `default__` one, so a
 * project or a package that defines its own still wins. The package itself is not edited.
 *
 * Why each one:
 * - union_relations: a column missing from one relation is `cast(null as <type>)`; ClickHouse
 *   types hold no NULL unless declared Nullable, so the missing side casts to the Nullable form
 *   (and every side of that column with it, so the UNION's branches agree).
 * - get_tables_by_pattern_sql / get_table_types_sql: `<db>.information_schema.tables` with
 *   `ilike` is a three-part name ClickHouse does not have; its tables are in system.tables,
 *   the database being dbt's schema.
 * - generate_series: powers of two multiply into Float64 in ClickHouse; the series is integers.
 * - width_bucket: `least(<Float64>, <Int64>)` has no common type in ClickHouse.
 * - generate_surrogate_key / unpivot: `cast(<Nullable column> as String)` fails on a NULL in
 *   ClickHouse, where SQL keeps the NULL: the key reads it through toString (NULL stays NULL, so
 *   the package's null marker applies), unpivot casts to the Nullable type when a column is.
 * - test_sequential_values / test_mutually_exclusive_ranges: ClickHouse's lag() and lead() give
 *   the type's default (0, 1970-01-01) past the partition's edge where SQL gives NULL; they read
 *   the column as Nullable, so the first (last) row has no neighbour, as the tests mean.
 */
const DBT_UTILS = `
{% macro _kiln_nullable_type(type) -%}
{%- set t = type | trim -%}
{%- if t.startswith('Nullable(') -%}{{ return(t) }}
{%- elif t.startswith('LowCardinality(') and not t.startswith('LowCardinality(Nullable(') -%}{{ return((t | replace('LowCardinality(', 'LowCardinality(Nullable(')) ~ ')') }}
{%- elif t.startswith('LowCardinality(') -%}{{ return(t) }}
{%- else -%}{{ return('Nullable(' ~ t ~ ')') }}
{%- endif -%}
{%- endmacro %}

{% macro _kiln_holds_null(type) -%}
{%- set t = type | trim -%}
{{ return(not (t.startswith('Array(') or t.startswith('Map(') or t.startswith('Tuple(') or t.startswith('Nested(') or t.startswith('AggregateFunction(') or t.startswith('SimpleAggregateFunction('))) }}
{%- endmacro %}

{% macro clickhouse__union_relations(relations, column_override=none, include=[], exclude=[], source_column_name='_dbt_source_relation', where=none) -%}
{%- if exclude and include -%}
{{ exceptions.raise_compiler_error("Both an exclude and include list were provided to the \`union\` macro. Only one is allowed") }}
{%- endif -%}
{%- if not execute -%}{{ return('') }}{%- endif -%}
{%- set overrides = column_override if column_override is not none else {} -%}
{%- set excluded = exclude | map('lower') | list -%}
{%- set included = include | map('lower') | list -%}
{%- set present = [] -%}
{%- set superset = {} -%}
{%- set names = [] -%}
{%- for relation in relations -%}
  {%- set own = [] -%}
  {%- for col in adapter.get_columns_in_relation(relation) -%}
    {%- if (exclude and col.column | lower in excluded) or (include and col.column | lower not in included) -%}
    {%- else -%}
      {%- do own.append(col.column) -%}
      {%- if col.column not in superset -%}
        {%- do names.append(col.column) -%}
        {%- do superset.update({col.column: col}) -%}
      {%- elif col.is_string() and superset[col.column].is_string() and col.string_size() > superset[col.column].string_size() -%}
        {%- do superset.update({col.column: col}) -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  {%- do present.append(own) -%}
{%- endfor -%}
{%- set partial = [] -%}
{%- for name in names -%}{%- for own in present -%}{%- if name not in own and name not in partial -%}{%- do partial.append(name) -%}{%- endif -%}{%- endfor -%}{%- endfor -%}
{%- if (include or exclude) and names | length == 0 -%}
{{ exceptions.raise_compiler_error("There were no columns found to union for relations " ~ (relations | map(attribute='name') | join(', '))) }}
{%- endif -%}
{%- for relation in relations %}
    (
        select
{%- if source_column_name is not none %}
            cast({{ dbt.string_literal(relation.render()) }} as {{ dbt.type_string() }}) as {{ source_column_name }}{% if names %},{% endif %}
{%- endif %}
{%- set own = present[loop.index0] %}
{%- for name in names %}
  {%- set col = superset[name] %}
  {%- set type = overrides.get(name, col.data_type) %}
  {%- set held = _kiln_holds_null(type) %}
  {%- set cast_to = _kiln_nullable_type(type) if (name in partial and held) else type %}
  {%- if name in own %}
            cast({{ adapter.quote(name) }} as {{ cast_to }}) as {{ col.quoted }}{% if not loop.last %},{% endif %}
  {%- elif held %}
            cast(null as {{ cast_to }}) as {{ col.quoted }}{% if not loop.last %},{% endif %}
  {%- else %}
            defaultValueOfTypeName('{{ type }}') as {{ col.quoted }}{% if not loop.last %},{% endif %}
  {%- endif %}
{%- endfor %}
        from {{ relation }}
{%- if where %}
        where {{ where }}
{%- endif %}
    )
{%- if not loop.last %}
    union all
{%- endif %}
{%- endfor %}
{%- endmacro %}

{% macro clickhouse__get_table_types_sql() -%}
multiIf(engine = 'View', 'view', engine = 'MaterializedView', 'materializedview', engine = 'Dictionary', 'dictionary', 'table') as {{ adapter.quote('table_type') }}
{%- endmacro %}

{% macro clickhouse__get_tables_by_pattern_sql(schema_pattern, table_pattern, exclude='', database=target.database) %}
        select distinct
            database as {{ adapter.quote('table_schema') }},
            name as {{ adapter.quote('table_name') }},
            {{ dbt_utils.get_table_types_sql() }}
        from system.tables
        where lower(database) like lower('{{ schema_pattern }}')
        and lower(name) like lower('{{ table_pattern }}')
        and lower(name) not like lower('{{ exclude }}')
        and not is_temporary
{% endmacro %}

{% macro clickhouse__generate_surrogate_key(field_list) -%}
{%- set null_value = '' if var('surrogate_key_treat_nulls_as_empty_strings', False) else '_dbt_utils_surrogate_key_null_' -%}
{%- set fields = [] -%}
{%- for field in field_list -%}
{%- do fields.append("coalesce(toString(" ~ field ~ "), '" ~ null_value ~ "')") -%}
{%- if not loop.last -%}{%- do fields.append("'-'") -%}{%- endif -%}
{%- endfor -%}
{{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}

{% macro clickhouse__unpivot(relation=none, cast_to='varchar', exclude=none, remove=none, field_name='field_name', value_name='value', quote_identifiers=False) -%}
{%- if not relation -%}{{ exceptions.raise_compiler_error("Error: argument \`relation\` is required for \`unpivot\` macro.") }}{%- endif -%}
{%- set exclude = exclude if exclude is not none else [] -%}
{%- set remove = remove if remove is not none else [] -%}
{%- set skipped = (remove | map('lower') | list) + (exclude | map('lower') | list) -%}
{%- set included = [] -%}
{%- for col in adapter.get_columns_in_relation(relation) -%}
{%- if col.column | lower not in skipped -%}{%- do included.append(col) -%}{%- endif -%}
{%- endfor -%}
{%- set value_type = _kiln_nullable_type(cast_to) if (_kiln_holds_null(cast_to) and (included | selectattr('is_nullable') | list)) else cast_to -%}
{%- for col in included %}
    select
{%- for kept in exclude %}
        {{ adapter.quote(kept) if quote_identifiers else kept }},
{%- endfor %}
        cast('{{ col.column }}' as {{ dbt.type_string() }}) as {{ adapter.quote(field_name) if quote_identifiers else field_name }},
        cast({{ adapter.quote(col.column) if quote_identifiers else col.column }} as {{ value_type }}) as {{ adapter.quote(value_name) if quote_identifiers else value_name }}
    from {{ relation }}
{%- if not loop.last %}
    union all
{%- endif %}
{%- endfor %}
{%- endmacro %}

{% macro clickhouse__generate_series(upper_bound) -%}
    select toInt64(number + 1) as generated_number from numbers({{ upper_bound }})
{%- endmacro %}

{% macro clickhouse__width_bucket(expr, min_value, max_value, num_buckets) -%}
    {%- set bin_size -%}
    (( {{ max_value }} - {{ min_value }} ) / {{ num_buckets }} )
    {%- endset %}
    (
        case
            when mod({{ dbt.safe_cast(expr, dbt.type_numeric()) }}, {{ dbt.safe_cast(bin_size, dbt.type_numeric()) }}) = 0
            then 1
            else 0
        end
    ) + least(ceil(({{ expr }} - {{ min_value }}) / {{ bin_size }}), toFloat64({{ num_buckets }}) + 1)
{%- endmacro %}

{% macro clickhouse__test_sequential_values(model, column_name, interval=1, datepart=None, group_by_columns=[]) -%}
{%- set previous = 'previous_' ~ modules.re.sub('[^0-9a-z_]+', '_', column_name | lower) -%}
select *
from (
    select
        {% for c in group_by_columns %}{{ c }}, {% endfor %}{{ column_name }},
        lag(toNullable({{ column_name }})) over (
            {% if group_by_columns %}partition by {{ group_by_columns | join(', ') }}{% endif %}
            order by {{ column_name }}
        ) as {{ previous }}
    from {{ model }}
) as windowed
where {{ previous }} is not null
{%- if datepart %}
  and cast({{ column_name }} as {{ dbt.type_timestamp() }}) != cast({{ dbt.dateadd(datepart, interval, previous) }} as {{ dbt.type_timestamp() }})
{%- else %}
  and {{ column_name }} != {{ previous }} + {{ interval }}
{%- endif %}
{%- endmacro %}

{% macro clickhouse__test_mutually_exclusive_ranges(model, lower_bound_column, upper_bound_column, partition_by=None, gaps='allowed', zero_length_range_allowed=False) -%}
{%- set next_operator = {'not_allowed': '=', 'allowed': '<=', 'required': '<'}.get(gaps) -%}
{%- if next_operator is none -%}
{{ exceptions.raise_compiler_error("mutually_exclusive_ranges: gaps must be 'not_allowed', 'allowed' or 'required', got '" ~ gaps ~ "'") }}
{%- endif -%}
{%- set length_operator = '<=' if zero_length_range_allowed else '<' -%}
{%- set window = ('partition by ' ~ partition_by ~ ' ' if partition_by else '') -%}
select *
from (
    select
        *,
        coalesce(lower_bound {{ length_operator }} upper_bound, false) as range_is_valid,
        coalesce(upper_bound {{ next_operator }} next_lower_bound, is_last_record, false) as next_range_is_valid
    from (
        select
            {% if partition_by %}{{ partition_by }} as partition_by_col,{% endif %}
            {{ lower_bound_column }} as lower_bound,
            {{ upper_bound_column }} as upper_bound,
            lead(toNullable({{ lower_bound_column }})) over ({{ window }}order by {{ lower_bound_column }}, {{ upper_bound_column }}) as next_lower_bound,
            row_number() over ({{ window }}order by {{ lower_bound_column }} desc, {{ upper_bound_column }} desc) = 1 as is_last_record
        from {{ model }}
    ) as window_functions
) as calc
where not (range_is_valid and next_range_is_valid)
{%- endmacro %}
`;

/** By package namespace: the file of ClickHouse versions adapter.dispatch may take for it. */
export const PACKAGE_CLICKHOUSE_MACROS: ReadonlyMap<string, MacroFile> = new Map([
  ['dbt_utils', { path: '<kiln>/dbt_utils_clickhouse.sql', source: DBT_UTILS }],
]);
