{{ config(materialized='materialized_view', engine='AggregatingMergeTree()', order_by='(content_id, date)', partition_by='toYYYYMM(date)') }}
-- Partial aggregates (-State) per title and UTC day, finalised with -Merge by the view
-- content_metrics_daily. avg_rating and reviews_count are fact_reviews' (the rules of
-- stg_reviews_flagged); hype_index sums the day's weighted events about the title (definition in
-- marts.yml). The same numbers as aggregating fact_reviews and fact_events, but kept current by
-- two materialized views, so `kiln stage` and `kiln watch` update them as data lands:
--   fact_content_metrics_daily_reviews fires on inserts into the raw reviews table,
--   fact_content_metrics_daily_events on inserts into the raw events table.
-- Each block reads the raw table itself (a view only fires on the table its SELECT reads first)
-- and applies the staging views' rules to the inserted rows; the whole file, both blocks, is the
-- backfill of a (re)build.
--
-- Why an inserted block adds exactly its share, double submissions included: kiln stages the
-- reviews table either whole (a dump, or a live table without incremental_key: swapped in, which
-- fires no view, so kiln stage drops these views first and rebuilds this model from the raw tables
-- once the load is in; see README "Materialized views") or by appending the rows past the highest
-- staged id (incremental_key: id). An appended row can thus only lose the dedup rules to a row
-- staged earlier (lower id), never make an earlier row lose: a new row counts when it is the
-- survivor of its submission among all staged rows, which stg_reviews says. Whether ClickHouse
-- shows a view the rows being inserted differs between versions, so both cases are handled: a row
-- stg_reviews_typed already lists is judged by stg_reviews; one it does not yet list must win
-- within its block (the two LIMIT BYs, the rules of stg_reviews_flagged) and against every staged
-- survivor. A change to content, users, carousel slides (a swap) or a replaced events file also
-- makes kiln stage rebuild this model, so the titles' hype and the checks stay exact.
--reviews:begin
SELECT
    content_id,
    date,
    avgStateIf(rating, is_review) AS avg_rating,
    countStateIf(is_review) AS reviews_count,
    sumState(hype_points) AS hype_index
FROM (
    SELECT
        assumeNotNull(content_id) AS content_id,
        toDate(assumeNotNull(created_at)) AS date,
        toUInt8(1) AS is_review,
        assumeNotNull(rating) AS rating,
        toFloat64(0) AS hype_points
    FROM (
        -- duplicate_submission: the lowest review_id of each (user, content, created_at)
        SELECT *
        FROM (
            -- the checks, then duplicate_review_id: the latest updated (then loaded) copy of an id
            SELECT *
            FROM (
                SELECT
{{ typed_review_columns('src') }}
                FROM {{ source('app', 'reviews') }} AS src
            )
            WHERE rating IS NOT NULL AND rating >= 0 AND rating <= 10 AND created_at IS NOT NULL
              AND content_id IN (SELECT content_id FROM {{ ref('stg_content') }})
              AND user_id IN (SELECT user_id FROM {{ ref('stg_users') }})
            ORDER BY updated_at DESC NULLS LAST, _loaded_at DESC
            LIMIT 1 BY review_id
        )
        ORDER BY review_id
        LIMIT 1 BY user_id, content_id, created_at
    )
    WHERE if(
        (review_id, _loaded_at) IN (SELECT review_id, _loaded_at FROM {{ ref('stg_reviews_typed') }}),
        (review_id, _loaded_at) IN (SELECT review_id, _loaded_at FROM {{ ref('stg_reviews') }}),
        review_id NOT IN (SELECT review_id FROM {{ ref('stg_reviews') }})
            AND (user_id, content_id, created_at) NOT IN (SELECT user_id, content_id, created_at FROM {{ ref('stg_reviews') }}))
)
GROUP BY content_id, date
--reviews:end
UNION ALL
--events:begin
SELECT
    content_id,
    date,
    avgStateIf(rating, is_review) AS avg_rating,
    countStateIf(is_review) AS reviews_count,
    sumState(hype_points) AS hype_index
FROM (
    -- events about a title in the catalog, weighted by their type and the title's hype
    SELECT
        ev.content_id AS content_id,
        ev.date AS date,
        toUInt8(0) AS is_review,
        toFloat64(0) AS rating,
        toFloat64(ev.weight) * (1 + coalesce(c.hype_index, 0) / 100) AS hype_points
    FROM (
        -- a carousel event names a slide: it counts for the slide's title
        SELECT assumeNotNull(coalesce(e.content_id, s.content_id)) AS content_id, e.date AS date, e.weight AS weight
        FROM (
            SELECT e.content_id AS content_id, e.date AS date, w.weight AS weight, e.slide_id AS slide_id
            FROM (
                -- the lines stg_events keeps (fact_events)
                SELECT
                    content_id,
                    toDate(assumeNotNull(event_time)) AS date,
                    event_type,
                    toInt64OrNull(replaceAll(visitParamExtractRaw(metadata, 'slide_id'), '"', '')) AS slide_id
                FROM (
                    SELECT
{{ parsed_event_columns() }}
                    FROM {{ source('events', 'app_events') }}
                )
                WHERE reject_reason IS NULL
            ) AS e
            INNER JOIN {{ ref('event_weights') }} AS w ON w.event_type = e.event_type
        ) AS e
        LEFT JOIN (
            SELECT slide_id, content_id FROM {{ ref('stg_hero_carousel') }} WHERE content_id IS NOT NULL
        ) AS s ON s.slide_id = e.slide_id
        WHERE coalesce(e.content_id, s.content_id) IS NOT NULL
    ) AS ev
    INNER JOIN {{ ref('stg_content') }} AS c ON c.content_id = ev.content_id
)
GROUP BY content_id, date
--events:end
