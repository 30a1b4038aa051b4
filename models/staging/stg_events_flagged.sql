-- Every staged event line, parsed, with the reason it is dropped (malformed_json: not a JSON
-- object; invalid_ts: ts missing or not a real moment) or NULL when it is kept. event_time is
-- UTC whatever offset ts carried; metadata holds every key but ts, event, user_id, content_id.
SELECT
    isValidJSON(raw) AND JSONType(raw) = 'Object' AS _is_object,
    {{ parse_utc("if(_is_object, JSONExtractString(raw, 'ts'), '')", 3) }} AS event_time,
    lower({{ clean_string("JSONExtractString(raw, 'event')") }}) AS event_type,
    toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(raw, 'user_id'))) AS user_id,
    toInt64OrNull(trim(BOTH '"' FROM JSONExtractRaw(raw, 'content_id'))) AS content_id,
    concat('{', arrayStringConcat(arrayMap(kv -> concat(toJSONString(kv.1), ':', kv.2),
        arrayFilter(kv -> kv.1 NOT IN ('ts', 'event', 'user_id', 'content_id'), JSONExtractKeysAndValuesRaw(raw))), ','), '}') AS metadata,
    multiIf(NOT _is_object, 'malformed_json', event_time IS NULL, 'invalid_ts', NULL) AS reject_reason,
    raw AS _raw,
    _kiln_file AS _file,
    _kiln_line AS _line,
    _kiln_loaded_at AS _loaded_at
FROM {{ source('events', 'app_events') }}
