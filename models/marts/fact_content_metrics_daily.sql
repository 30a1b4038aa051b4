{{ config(engine='AggregatingMergeTree()', order_by='(content_id, date)', partition_by='toYYYYMM(date)') }}
-- Partial aggregates (-State) per title and UTC day, finalised with -Merge by the view
-- content_metrics_daily. avg_rating and reviews_count come from fact_reviews; hype_index sums
-- the day's weighted events about the title (definition in marts.yml).
SELECT
    content_id,
    date,
    avgStateIf(rating, is_review) AS avg_rating,
    countStateIf(is_review) AS reviews_count,
    sumState(hype_points) AS hype_index
FROM (
    SELECT content_id, toDate(created_at) AS date, 1 AS is_review, rating, toFloat64(0) AS hype_points
    FROM {{ ref('fact_reviews') }}
    UNION ALL
    -- events about a title in the catalog, weighted by their type and the title's hype
    SELECT ev.content_id, ev.date, 0, toFloat64(0), toFloat64(ev.weight) * (1 + coalesce(c.hype_index, 0) / 100)
    FROM (
        -- a carousel event names a slide: it counts for the slide's title
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
SETTINGS join_use_nulls = 1
