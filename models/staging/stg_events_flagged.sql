-- Every staged event line, parsed, with the reason it is dropped (malformed_json: not a JSON
-- object; invalid_ts: ts missing or not a real moment) or NULL when it is kept. event_time is
-- UTC whatever offset ts carried; metadata holds every key but ts, event, user_id, content_id.
-- The app writes compact JSON (no spaces outside strings), which the visitParam* functions read.
-- (The columns are the macro parsed_event_columns, which fact_content_metrics_daily shares.)
SELECT
{{ parsed_event_columns() }}
FROM {{ source('events', 'app_events') }}
