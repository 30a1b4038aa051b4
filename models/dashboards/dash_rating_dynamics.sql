-- Ratings over time per title: the day's reviews and average, and the trailing 7-day
-- (calendar days, gaps allowed) review count and weighted average rating.
WITH daily AS (
    SELECT content_id, date, reviews_count, avg_rating
    FROM {{ ref('content_metrics_daily') }}
    WHERE reviews_count > 0
)
SELECT
    d.date AS date,
    d.content_id AS content_id,
    c.title AS title,
    c.content_type AS content_type,
    c.genre AS genre,
    d.reviews_count AS reviews_count,
    d.avg_rating AS avg_rating,
    sum(d.reviews_count) OVER w7 AS reviews_7d,
    round(sum(d.avg_rating * d.reviews_count) OVER w7 / sum(d.reviews_count) OVER w7, 2) AS avg_rating_7d
FROM daily AS d
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = d.content_id
WINDOW w7 AS (PARTITION BY d.content_id ORDER BY d.date RANGE BETWEEN 6 PRECEDING AND CURRENT ROW)
ORDER BY date, content_id
