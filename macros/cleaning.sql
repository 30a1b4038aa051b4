{#- Cleaning rules of the reference project (README, "The reference project"). Each macro takes
    a column or expression and works whatever ClickHouse type staging gave it (String, numbers,
    DateTime, Nullable), so the same models build on a dump, a live MySQL or CSV strings. -#}

{# Trimmed text; NULL stays NULL. #}
{% macro clean_string(expr) -%}
trim(BOTH ' \t\r\n' FROM toString({{ expr }}))
{%- endmacro %}

{# Trimmed text, with '' and NULL both NULL (optional fields). #}
{% macro clean_optional_string(expr) -%}
nullIf({{ clean_string(expr) }}, '')
{%- endmacro %}

{# An integer, or NULL when the value is missing or not a number. #}
{% macro to_int(expr) -%}
toInt64OrNull({{ clean_string(expr) }})
{%- endmacro %}

{# A number in [min_value, max_value] inclusive, else NULL. Accepts '1,234' style thousands. #}
{% macro number_in_range(expr, min_value=none, max_value=none) -%}
{%- set n = "toFloat64OrNull(replaceAll(" ~ clean_string(expr) ~ ", ',', ''))" -%}
if({{ n }} >= {{ min_value if min_value is not none else '-inf' }} AND {{ n }} <= {{ max_value if max_value is not none else 'inf' }}, {{ n }}, NULL)
{%- endmacro %}

{# MySQL TINYINT(1) / Bool / '1' / 'true' as a Bool. #}
{% macro to_bool(expr) -%}
(lower({{ clean_string(expr) }}) IN ('1', 'true'))
{%- endmacro %}

{#
  A timestamp converted to UTC, or NULL when it is not a real moment. Accepts 'YYYY-MM-DD',
  'YYYY-MM-DD hh:mm:ss[.fff]' (MySQL DATETIME, UTC) and ISO-8601 with 'T' and any offset
  ('Z', '+02:00', '-0500'). Invalid: zero dates (0000-00-00), days the calendar lacks
  (2025-02-30), hours past 23, and anything before 1971 (a zero date some loaders turn into
  the epoch). ClickHouse's best-effort parser alone would roll 2025-00-15 into January, so the
  local part must survive a round trip unchanged.
#}
{% macro parse_utc(expr, scale=0) -%}
{%- set s = clean_string(expr) -%}
{%- set local = "replaceOne(substring(" ~ s ~ ", 1, 19), 'T', ' ')" -%}
if(
  match({{ s }}, '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)?)?$')
    AND substring({{ s }}, 1, 4) > '1970'
    AND substring(formatDateTime(parseDateTimeBestEffortOrZero({{ local }}, 'UTC'), '%Y-%m-%d %H:%i:%s'), 1, length({{ local }})) = {{ local }},
  {% if scale == 0 %}parseDateTimeBestEffortOrNull({{ s }}, 'UTC'){% else %}parseDateTime64BestEffortOrNull({{ s }}, {{ scale }}, 'UTC'){% endif %},
  NULL)
{%- endmacro %}

{# A DATE (no time of day), or NULL when invalid as for parse_utc. #}
{% macro parse_date(expr) -%}
toDate({{ parse_utc("substring(" ~ clean_string(expr) ~ ", 1, 10)") }})
{%- endmacro %}

{#
  A JSON list column as Array(String): elements trimmed. A JSON string (some rows hold
  "Netflix, Hulu" instead of a list) is split on commas; NULL, invalid JSON or other shapes
  give []. keep_empty keeps null/blank elements as '' so two lists stay aligned by position
  (cast and cast_photos); otherwise they are dropped.
#}
{% macro json_string_array(expr, keep_empty=false) -%}
{%- set j = "coalesce(toString(" ~ expr ~ "), '')" -%}
{%- set items -%}
arrayMap(e -> trim(BOTH ' \t\r\n' FROM e),
  multiIf(
    isValidJSON({{ j }}) AND JSONType({{ j }}) = 'Array', arrayMap(e -> if(JSONType(e) = 'String', JSONExtractString(e), ''), JSONExtractArrayRaw({{ j }})),
    isValidJSON({{ j }}) AND JSONType({{ j }}) = 'String', splitByChar(',', JSONExtractString({{ j }})),
    CAST([], 'Array(String)')))
{%- endset -%}
{%- if keep_empty -%}{{ items }}{%- else -%}arrayFilter(e -> e != '', {{ items }}){%- endif -%}
{%- endmacro %}

{# The key exports are matched on: trimmed, case-insensitive title. #}
{% macro title_key(expr) -%}
lower({{ clean_string(expr) }})
{%- endmacro %}
