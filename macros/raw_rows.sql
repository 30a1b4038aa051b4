{#- How one raw row of the app's reviews and events reads as a typed row. Shared by the staging
    views (stg_reviews_typed, stg_events_flagged) and the materialized views of
    fact_content_metrics_daily, which must read the raw tables themselves: ClickHouse fires a
    materialized view on inserts into the table its SELECT reads first, never through a view. -#}

{# stg_reviews_typed's columns, from the raw reviews row `src`. #}
{% macro typed_review_columns(src) -%}
    toInt64({{ src }}.id) AS review_id,
    {{ to_int(src ~ '.content_id') }} AS content_id,
    {{ to_int(src ~ '.user_id') }} AS user_id,
    toFloat64OrNull({{ clean_string(src ~ '.rating') }}) AS rating,
    {{ parse_utc(src ~ '.created_at') }} AS created_at,
    {{ parse_utc(src ~ '.updated_at') }} AS updated_at,
    {{ src }}._kiln_loaded_at AS _loaded_at
{%- endmacro %}

{# stg_events_flagged's columns, from a raw events row (columns raw, _kiln_file, _kiln_line, _kiln_loaded_at). #}
{% macro parsed_event_columns() -%}
    match(raw, '^\\s*\\{.*\\}\\s*$') AS _is_object,
    {{ parse_utc("if(_is_object, visitParamExtractString(raw, 'ts'), '')") }} AS event_time,
    lower({{ clean_string("if(_is_object, visitParamExtractString(raw, 'event'), '')") }}) AS event_type,
    toInt64OrNull(replaceAll(if(_is_object, visitParamExtractRaw(raw, 'user_id'), ''), '"', '')) AS user_id,
    toInt64OrNull(replaceAll(if(_is_object, visitParamExtractRaw(raw, 'content_id'), ''), '"', '')) AS content_id,
    if(_is_object,
       replaceOne(replaceRegexpAll(raw, ',?"(?:ts|event|user_id|content_id)":(?:"(?:[^"\\\\]|\\\\.)*"|[^,}]*)', ''), '{,', '{'),
       '{}') AS metadata,
    multiIf(NOT _is_object, 'malformed_json', event_time IS NULL, 'invalid_ts', NULL) AS reject_reason,
    raw AS _raw,
    _kiln_file AS _file,
    _kiln_line AS _line,
    _kiln_loaded_at AS _loaded_at
{%- endmacro %}
