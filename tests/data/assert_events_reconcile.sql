-- Nothing lost: every event line is in fact_events or counted (dropped by the models or
-- quarantined by staging) in stg_rejects_summary. Every events row of the summary carries the same
-- raw_rows (all input lines), so a row that disagrees fails the test too.
SELECT min_raw_lines, max_raw_lines, kept, dropped
FROM (
    SELECT
        (SELECT min(raw_rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events') AS min_raw_lines,
        (SELECT max(raw_rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events') AS max_raw_lines,
        (SELECT count() FROM {{ ref('fact_events') }}) AS kept,
        (SELECT sum(rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events' AND action IN ('dropped', 'quarantined')) AS dropped
)
WHERE min_raw_lines != max_raw_lines OR max_raw_lines != kept + dropped
