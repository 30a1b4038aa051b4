{{ config(materialized='view') }}
-- One row per title and UTC day: fact_content_metrics_daily's partial aggregates finalised.
-- avg_rating is NULL on days with events but no reviews.
SELECT
    content_id,
    date,
    if(merged_count = 0, NULL, {{ round_half_up("merged_avg") }}) AS avg_rating,
    merged_count AS reviews_count,
    {{ round_half_up("merged_hype") }} AS hype_index
FROM (
    SELECT
        content_id,
        date,
        avgMerge(avg_rating) AS merged_avg,
        countMerge(reviews_count) AS merged_count,
        sumMerge(hype_index) AS merged_hype
    FROM {{ ref('fact_content_metrics_daily') }}
    GROUP BY content_id, date
)
