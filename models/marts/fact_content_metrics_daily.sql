{{ config(engine='AggregatingMergeTree()', order_by='(content_id, date)', partition_by='toYYYYMM(date)') }}
-- Partial aggregates (-State) per title and UTC day, finalised with -Merge by the view
-- content_metrics_daily. avg_rating and reviews_count come from fact_reviews; hype_index sums
-- the day's weighted events about the title (definition in marts.yml).
WITH slide_content AS (
    SELECT slide_id, content_id FROM {{ ref('stg_hero_carousel') }} WHERE content_id IS NOT NULL
),
events_on_content AS (
    -- carousel events name a slide, not a title: the slide's title gets the credit
    SELECT
        coalesce(e.content_id, s.content_id) AS content_id,
        toDate(e.event_time) AS date,
        w.weight AS weight
    FROM {{ ref('fact_events') }} AS e
    INNER JOIN {{ ref('event_weights') }} AS w ON w.event_type = e.event_type
    LEFT JOIN slide_content AS s ON s.slide_id = toInt64OrNull(toString(e.metadata.slide_id))
),
daily_inputs AS (
    SELECT content_id, toDate(created_at) AS date, true AS is_review, rating, toFloat64(0) AS hype_points
    FROM {{ ref('fact_reviews') }}
    UNION ALL
    SELECT ev.content_id, ev.date, false, toFloat64(0), toFloat64(ev.weight) * (1 + coalesce(c.hype_index, 0) / 100)
    FROM events_on_content AS ev
    INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = ev.content_id
)
SELECT
    assumeNotNull(content_id) AS content_id,
    date,
    avgStateIf(rating, is_review) AS avg_rating,
    countStateIf(is_review) AS reviews_count,
    sumState(hype_points) AS hype_index
FROM daily_inputs
GROUP BY content_id, date
SETTINGS join_use_nulls = 1
