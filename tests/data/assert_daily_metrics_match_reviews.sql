-- content_metrics_daily (AggregatingMergeTree finalised by -Merge) agrees with fact_reviews
-- per title and UTC day.
SELECT e.content_id, e.date, e.n, m.reviews_count, e.a, m.avg_rating
FROM (
    SELECT content_id, toDate(created_at) AS date, count() AS n, {{ round_half_up("avg(rating)") }} AS a
    FROM {{ ref('fact_reviews') }}
    GROUP BY content_id, date
) AS e
LEFT JOIN {{ ref('content_metrics_daily') }} AS m ON m.content_id = e.content_id AND m.date = e.date
WHERE m.reviews_count != e.n OR abs(coalesce(m.avg_rating, -100) - e.a) > 0.011
