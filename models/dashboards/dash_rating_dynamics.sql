-- Ratings over time per title: the day's reviews and average, and the trailing 7-day
-- (calendar days, gaps allowed) review count and weighted average rating. Written with arrays
-- instead of window functions, which ClickHouse has only since 21.3 (README, "Supported servers").
SELECT
    d.date AS date,
    d.content_id AS content_id,
    c.title AS title,
    c.content_type AS content_type,
    c.genre AS genre,
    d.reviews_count AS reviews_count,
    d.avg_rating AS avg_rating,
    d.reviews_7d AS reviews_7d,
    d.avg_rating_7d AS avg_rating_7d
FROM (
    -- per title, each reviewed day with the sums over the days in the last 7 calendar days
    SELECT
        content_id,
        date,
        reviews_count,
        avg_rating,
        arraySum(arrayFilter((n, d) -> d > date - 7 AND d <= date, counts, dates)) AS reviews_7d,
        {{ round_half_up("arraySum(arrayFilter((p, d) -> d > date - 7 AND d <= date, points, dates)) / reviews_7d") }} AS avg_rating_7d
    FROM (
        SELECT
            content_id,
            groupArray(date) AS dates,
            groupArray(reviews_count) AS counts,
            groupArray(avg_rating) AS ratings,
            groupArray(avg_rating * reviews_count) AS points
        FROM {{ ref('content_metrics_daily') }}
        WHERE reviews_count > 0
        GROUP BY content_id
    )
    ARRAY JOIN dates AS date, counts AS reviews_count, ratings AS avg_rating
) AS d
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = d.content_id
ORDER BY date, content_id
