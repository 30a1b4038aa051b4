-- App events whose line is a JSON object and whose ts parses.
SELECT
    assumeNotNull(event_time) AS event_time,
    user_id,
    content_id,
    event_type,
    metadata,
    _file,
    _line,
    _loaded_at
FROM {{ ref('stg_events_flagged') }}
WHERE reject_reason IS NULL
