-- content_metrics_daily (AggregatingMergeTree finalised by -Merge) agrees with fact_reviews
-- per title and UTC day.
WITH expected AS (
    SELECT content_id, toDate(created_at) AS date, count() AS n, round(avg(rating), 2) AS a
    FROM {{ ref('fact_reviews') }}
    GROUP BY content_id, date
)
SELECT e.content_id, e.date, e.n, m.reviews_count, e.a, m.avg_rating
FROM expected AS e
LEFT JOIN {{ ref('content_metrics_daily') }} AS m ON m.content_id = e.content_id AND m.date = e.date
WHERE m.reviews_count != e.n OR abs(coalesce(m.avg_rating, -100) - e.a) > 0.011
