{#- Cleaning rules of the reference project (README, "The reference project"). Each macro takes
    a column or expression and works whatever ClickHouse type staging gave it (String, numbers,
    DateTime, Nullable), so the same models build on a dump, a live MySQL or CSV strings.
    They use only functions ClickHouse 18.16 has (README, "Supported servers"), so every
    engine kiln supports gives the same rows: no trim(), no JSONExtract*, no DateTime64. -#}

{# Trimmed text; NULL stays NULL. (What trim(BOTH ' \t\r\n' FROM x) does; 18.16 lacks trim.) #}
{% macro clean_string(expr) -%}
{{ trim_whitespace("toString(" ~ expr ~ ")") }}
{%- endmacro %}

{# Leading and trailing spaces, tabs and line breaks removed from a String. #}
{% macro trim_whitespace(expr) -%}
replaceRegexpAll({{ expr }}, '^[ \t\r\n]+|[ \t\r\n]+$', '')
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
  ('Z', '+02:00', '-0500'); fractions of a second are dropped (18.16 has no DateTime64). Invalid: zero dates (0000-00-00), days the calendar lacks
  (2025-02-30), hours past 23, and anything before 1971 (a zero date some loaders turn into
  the epoch). ClickHouse's best-effort parser alone would roll 2025-00-15 into January, so the
  local part must survive a round trip unchanged.
#}
{% macro parse_utc(expr) -%}
{%- set s = clean_string(expr) -%}
{%- set local = "replaceOne(substring(" ~ s ~ ", 1, 19), 'T', ' ')" -%}
if(
  match({{ s }}, '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}(:?\\d{2})?)?)?$')
    AND substring({{ s }}, 1, 4) > '1970'
    AND substring(toString(parseDateTimeBestEffortOrZero({{ local }}, 'UTC')), 1, length({{ local }})) = {{ local }},
  parseDateTimeBestEffortOrNull({{ s }}, 'UTC'),
  NULL)
{%- endmacro %}

{# A DATE (no time of day), or NULL when invalid as for parse_utc. #}
{% macro parse_date(expr) -%}
toDate({{ parse_utc("substring(" ~ clean_string(expr) ~ ", 1, 10)") }})
{%- endmacro %}

{#
  A JSON list column as Array(String): elements trimmed. A JSON string (some rows hold
  "Netflix, Hulu" instead of a list) is split on commas; NULL, anything but a flat list of
  strings and nulls, or other shapes give []. keep_empty keeps null/blank elements as '' so two
  lists stay aligned by position (cast and cast_photos); otherwise they are dropped. Read with
  regular expressions (18.16 has no JSON functions): the escapes \" \\ \/ \t \n \r are decoded.
#}
{% macro json_string_array(expr, keep_empty=false) -%}
{%- set j = "coalesce(toString(" ~ expr ~ "), '')" -%}
{#- A JSON string: quotes around anything but a quote or backslash, or a backslash escape. -#}
{%- set str %}"(?:[^"\\\\]|\\\\.)*"{% endset -%}
{%- set items -%}
arrayMap(e -> {{ trim_whitespace(json_unescape("replaceRegexpAll(e, '^\"|\"$', '')")) }},
  multiIf(
    match({{ j }}, '^\\s*\\[\\s*((?:{{ str }}|null)(\\s*,\\s*(?:{{ str }}|null))*)?\\s*\\]\\s*$'),
      arrayMap(e -> if(e = 'null', '', e), extractAll({{ j }}, '{{ str }}|null')),
    match({{ j }}, '^\\s*{{ str }}\\s*$'), splitByChar(',', replaceRegexpAll({{ j }}, '^\\s*"|"\\s*$', '')),
    CAST([], 'Array(String)')))
{%- endset -%}
{%- if keep_empty -%}{{ items }}{%- else -%}arrayFilter(e -> e != '', {{ items }}){%- endif -%}
{%- endmacro %}

{# The text of a JSON string's body with its common escapes decoded. #}
{% macro json_unescape(expr) -%}
replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll(replaceAll({{ expr }}, '\\\\', '\\u005C'), '\\"', '"'), '\\/', '/'), '\\t', '\t'), '\\n', '\n'), '\\r', '\r'), '\\u005C', '\\')
{%- endmacro %}

{# The key exports are matched on: trimmed, case-insensitive title. #}
{% macro title_key(expr) -%}
lower({{ clean_string(expr) }})
{%- endmacro %}
