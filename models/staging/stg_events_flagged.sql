-- Every staged event line, parsed, with the reason it is dropped (malformed_json: not a JSON
-- object; invalid_ts: ts missing or not a real moment) or NULL when it is kept. event_time is
-- UTC whatever offset ts carried; metadata holds every key but ts, event, user_id, content_id.
-- The app writes compact JSON (no spaces outside strings), which the visitParam* functions read.
SELECT
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
FROM {{ source('events', 'app_events') }}
