-- Nothing lost: every event line is in fact_events or counted (dropped by the models or
-- quarantined by staging) in stg_rejects_summary.
SELECT raw_lines, kept, dropped
FROM (
    SELECT
        (SELECT any(raw_rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events') AS raw_lines,
        (SELECT count() FROM {{ ref('fact_events') }}) AS kept,
        (SELECT sum(rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events' AND action IN ('dropped', 'quarantined')) AS dropped
)
WHERE raw_lines != kept + dropped
