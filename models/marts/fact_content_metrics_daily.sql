{{ config(materialized='materialized_view', engine='AggregatingMergeTree()', order_by='(content_id, date)', partition_by='toYYYYMM(date)') }}
-- Partial aggregates (-State) per title and UTC day, finalised with -Merge by the view
-- content_metrics_daily. avg_rating and reviews_count are fact_reviews' (the rules of
-- stg_reviews_flagged); hype_index sums the day's weighted events about the title (definition in
-- marts.yml). Kept current by two materialized views, so `kiln stage` and `kiln watch` update it
-- as data lands: fact_content_metrics_daily_reviews fires on inserts into the raw reviews,
-- fact_content_metrics_daily_events on inserts into the raw events. The whole file (both blocks)
-- is the backfill of a (re)build.
--
-- Each block is one flat SELECT over the raw table: a view fires only on the table its SELECT
-- reads first, and ClickHouse 18.16 runs a view's query with the inserted rows in place of its
-- outermost FROM (so no subquery there) and one JOIN at most (so lookups, not joins: transform()
-- over arrays each padded with a key no row has, as transform refuses empty ones). The cleaning
-- is the staging views' (stg_reviews_typed, stg_events_flagged); assert_daily_metrics_match_reviews
-- and assert_daily_hype_matches_events check the result against fact_reviews and fact_events.
--
-- Reviews, exactly once with the dedup: kiln stages the reviews either whole (a dump, or a live
-- table without incremental_key: swapped in, which fires no view, so kiln stage drops these views
-- first and rebuilds this model after the load; README "Materialized views") or by appending the
-- rows past the highest staged id (incremental_key: id). An appended row can only lose the dedup
-- rules to a row staged earlier (lower id), never make an earlier one lose, so a new row counts
-- exactly when stg_reviews (all staged rows, the new ones included) keeps it. The servers kiln
-- supports show a view's subqueries the rows being inserted; were they hidden, a row is judged
-- by the checks and against every staged survivor instead. A reload of content, users or slides
-- (they feed the checks and the hype) or a replaced events file also makes kiln stage rebuild.
--reviews:begin
SELECT
    assumeNotNull({{ to_int('src.content_id') }}) AS content_id,
    toDate(assumeNotNull({{ parse_utc('src.created_at') }})) AS date,
    avgStateIf(assumeNotNull(toFloat64OrNull({{ clean_string('src.rating') }})), toUInt8(1)) AS avg_rating,
    countStateIf(toUInt8(1)) AS reviews_count,
    sumState(toFloat64(0)) AS hype_index
FROM {{ source('app', 'reviews') }} AS src
WHERE if(
    (toInt64(src.id), src._kiln_loaded_at) IN (SELECT review_id, _loaded_at FROM {{ ref('stg_reviews_typed') }}),
    (toInt64(src.id), src._kiln_loaded_at) IN (SELECT review_id, _loaded_at FROM {{ ref('stg_reviews') }}),
    toFloat64OrNull({{ clean_string('src.rating') }}) >= 0 AND toFloat64OrNull({{ clean_string('src.rating') }}) <= 10
        AND {{ parse_utc('src.created_at') }} IS NOT NULL
        AND {{ to_int('src.content_id') }} IN (SELECT content_id FROM {{ ref('stg_content') }})
        AND {{ to_int('src.user_id') }} IN (SELECT user_id FROM {{ ref('stg_users') }})
        AND toInt64(src.id) NOT IN (SELECT review_id FROM {{ ref('stg_reviews') }})
        AND ({{ to_int('src.user_id') }}, {{ to_int('src.content_id') }}, {{ parse_utc('src.created_at') }})
            NOT IN (SELECT user_id, content_id, created_at FROM {{ ref('stg_reviews') }}))
GROUP BY content_id, date
--reviews:end
UNION ALL
--events:begin
SELECT
    -- a carousel event names a slide: it counts for the slide's title
    assumeNotNull(coalesce(event_content_id, slide_content_id)) AS content_id,
    toDate(assumeNotNull(event_time)) AS date,
    avgStateIf(toFloat64(0), toUInt8(0)) AS avg_rating,
    countStateIf(toUInt8(0)) AS reviews_count,
    -- weighted by the event's type and the title's hype
    sumState(
        transform(event_type,
            (SELECT arrayPushBack(groupArray(event_type), '\n') FROM {{ ref('event_weights') }}),
            (SELECT arrayPushBack(groupArray(toFloat64(weight)), toFloat64(0)) FROM {{ ref('event_weights') }}), toFloat64(0))
        * (1 + transform(content_id,
            (SELECT arrayPushBack(groupArray(content_id), toInt64(-1)) FROM {{ ref('stg_content') }}),
            (SELECT arrayPushBack(groupArray(coalesce(hype_index, 0)), toFloat64(0)) FROM {{ ref('stg_content') }}), toFloat64(0)) / 100)
    ) AS hype_index
FROM {{ source('events', 'app_events') }}
-- the lines stg_events keeps (a JSON object with a real ts), of a weighted type, about a title in the catalog
WHERE (match(raw, '^\\s*\\{.*\\}\\s*$') AS _is_object)
  AND ({{ parse_utc("if(_is_object, visitParamExtractString(raw, 'ts'), '')") }} AS event_time) IS NOT NULL
  AND (lower({{ clean_string("visitParamExtractString(raw, 'event')") }}) AS event_type) IN (SELECT event_type FROM {{ ref('event_weights') }})
  AND coalesce(
        (toInt64OrNull(replaceAll(visitParamExtractRaw(raw, 'content_id'), '"', '')) AS event_content_id),
        (nullIf(transform(
            ifNull(toInt64OrNull(replaceAll(visitParamExtractRaw(raw, 'slide_id'), '"', '')), toInt64(-1)),
            (SELECT arrayPushBack(groupArray(slide_id), toInt64(-1)) FROM {{ ref('stg_hero_carousel') }} WHERE content_id IS NOT NULL),
            (SELECT arrayPushBack(groupArray(assumeNotNull(content_id)), toInt64(-1)) FROM {{ ref('stg_hero_carousel') }} WHERE content_id IS NOT NULL),
            toInt64(-1)), toInt64(-1)) AS slide_content_id)
      ) IN (SELECT content_id FROM {{ ref('stg_content') }})
GROUP BY content_id, date
--events:end
