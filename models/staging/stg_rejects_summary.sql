-- What cleaning did, counted: rows dropped from facts per reason (every reason listed, zero
-- included), rows staging quarantined (unparseable input, per reason) and fields nulled in
-- dimensions per field. raw_rows counts the input rows of a fact source (staged + quarantined;
-- NULL for nulled fields), so kept = raw_rows - dropped - quarantined can be checked.
{#- Every branch names its columns: 18.16 reads a UNION ALL view's columns by name. -#}
{% set quarantined -%}
-- rows staging could not parse at all (e.g. a line that is not JSON) wait in the quarantine
SELECT concat(source_name, '.', table_name) AS source_table,
       replaceRegexpAll(lower({{ trim_whitespace('reason') }}), '[^a-z0-9]+', '_') AS reason_key, count() AS n
FROM `{{ target.raw_database }}`.`_kiln_quarantine`
GROUP BY source_table, reason_key
{%- endset %}
{% set event_lines -%}
(SELECT count() FROM {{ ref('stg_events_flagged') }})
{%- endset %}
{#- Every input line of the events source: the ones staged plus the ones quarantined, all reasons. -#}
{% set event_raw_rows -%}
toNullable({{ event_lines }} + (SELECT sum(n) FROM ({{ quarantined }}) WHERE source_table = 'events.app_events'))
{%- endset %}
SELECT 'app.reviews' AS source_table, 'dropped' AS action, r.reason AS reason, toUInt64(coalesce(c.n, 0)) AS rows,
       toNullable((SELECT count() FROM {{ ref('stg_reviews_flagged') }})) AS raw_rows
FROM (
    SELECT arrayJoin(['rating_missing', 'rating_out_of_range', 'invalid_created_at', 'unknown_content',
                      'unknown_user', 'duplicate_review_id', 'duplicate_submission']) AS reason
) AS r
LEFT JOIN (
    SELECT reject_reason AS reason, count() AS n FROM {{ ref('stg_reviews_flagged') }} WHERE reject_reason IS NOT NULL GROUP BY reason
) AS c ON c.reason = r.reason
UNION ALL
SELECT 'events.app_events' AS source_table, 'dropped' AS action, r.reason AS reason, toUInt64(coalesce(c.n, 0)) AS rows,
       {{ event_raw_rows }} AS raw_rows
FROM (SELECT arrayJoin(['malformed_json', 'invalid_ts']) AS reason) AS r
LEFT JOIN (
    SELECT reject_reason AS reason, count() AS n FROM {{ ref('stg_events_flagged') }} WHERE reject_reason IS NOT NULL GROUP BY reason
) AS c ON c.reason = r.reason
UNION ALL
SELECT source_table, 'quarantined' AS action, reason_key AS reason, toUInt64(n) AS rows, {{ event_raw_rows }} AS raw_rows
FROM ({{ quarantined }})
WHERE source_table = 'events.app_events'
UNION ALL
SELECT source_table, 'quarantined' AS action, reason_key AS reason, toUInt64(n) AS rows, CAST(NULL AS Nullable(UInt64)) AS raw_rows
FROM ({{ quarantined }})
WHERE source_table != 'events.app_events'
UNION ALL
SELECT source_table, 'nulled' AS action, concat('invalid_', reason) AS reason, count() AS rows, CAST(NULL AS Nullable(UInt64)) AS raw_rows
FROM (
    -- every field a dimension's cleaning set to NULL, one row per field and row
    SELECT 'app.content' AS source_table, arrayJoin(_nulled) AS reason FROM {{ ref('stg_content') }}
    UNION ALL SELECT 'app.users', arrayJoin(_nulled) FROM {{ ref('stg_users') }}
    UNION ALL SELECT 'app.hero_carousel', arrayJoin(_nulled) FROM {{ ref('stg_hero_carousel') }}
    UNION ALL SELECT 'app.coming_soon_items', arrayJoin(_nulled) FROM {{ ref('stg_coming_soon_items') }}
    UNION ALL SELECT 'exports.imdb_titles', arrayJoin(_nulled) FROM {{ ref('stg_imdb_titles') }}
    UNION ALL SELECT 'exports.metacritic_scores', arrayJoin(_nulled) FROM {{ ref('stg_metacritic_scores') }}
)
GROUP BY source_table, reason
