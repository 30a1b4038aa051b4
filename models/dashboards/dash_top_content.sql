-- Top 10 titles by reviews_count over the last 7 and the last 30 days (window_days), counted
-- back from as_of_time() (the latest moment in the data unless var as_of is set).
WITH windows AS (
    SELECT arrayJoin([7, 30]) AS window_days
),
totals AS (
    SELECT
        w.window_days AS window_days,
        m.content_id AS content_id,
        sum(m.reviews_count) AS reviews_count,
        round(sumIf(m.avg_rating * m.reviews_count, m.reviews_count > 0) / nullIf(sum(m.reviews_count), 0), 2) AS avg_rating,
        round(sum(m.hype_index), 2) AS hype_index
    FROM {{ ref('content_metrics_daily') }} AS m
    CROSS JOIN windows AS w
    WHERE m.date > toDate({{ as_of_time() }}) - w.window_days
    GROUP BY window_days, content_id
    HAVING reviews_count > 0
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY window_days ORDER BY reviews_count DESC, avg_rating DESC, content_id) AS rank
    FROM totals
)
SELECT
    r.window_days AS window_days,
    r.rank AS rank,
    r.content_id AS content_id,
    c.title AS title,
    c.content_type AS content_type,
    c.genre AS genre,
    r.reviews_count AS reviews_count,
    r.avg_rating AS avg_rating,
    r.hype_index AS hype_index
FROM ranked AS r
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = r.content_id
WHERE r.rank <= 10
ORDER BY window_days, rank
