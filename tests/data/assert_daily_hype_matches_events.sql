-- content_metrics_daily's hype_index (fed by a materialized view over the raw events) agrees with
-- fact_events: per title and UTC day, the events about a title in the catalog (a carousel event
-- counts for its slide's title), each weighted by event_weights and (1 + the title's hype / 100).
-- A row is a day where the two differ.
SELECT e.content_id AS content_id, e.date AS date, e.hype AS expected, m.hype_index AS actual
FROM (
    SELECT content_id, date, {{ round_half_up('sum(points)') }} AS hype
    FROM (
        SELECT ev.content_id AS content_id, ev.date AS date, toFloat64(ev.weight) * (1 + coalesce(c.hype_index, 0) / 100) AS points
        FROM (
            SELECT assumeNotNull(coalesce(e.content_id, s.content_id)) AS content_id, e.date AS date, e.weight AS weight
            FROM (
                SELECT e.content_id AS content_id, toDate(e.event_time) AS date, w.weight AS weight,
                       toInt64OrNull(replaceAll(visitParamExtractRaw(e.metadata, 'slide_id'), '"', '')) AS slide_id
                FROM {{ ref('fact_events') }} AS e
                INNER JOIN {{ ref('event_weights') }} AS w ON w.event_type = e.event_type
            ) AS e
            LEFT JOIN (
                SELECT slide_id, content_id FROM {{ ref('stg_hero_carousel') }} WHERE content_id IS NOT NULL
            ) AS s ON s.slide_id = e.slide_id
            WHERE coalesce(e.content_id, s.content_id) IS NOT NULL
        ) AS ev
        INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = ev.content_id
    )
    GROUP BY content_id, date
) AS e
LEFT JOIN {{ ref('content_metrics_daily') }} AS m ON m.content_id = e.content_id AND m.date = e.date
WHERE abs(e.hype - coalesce(m.hype_index, -1)) > 0.011
SETTINGS join_use_nulls = 1
