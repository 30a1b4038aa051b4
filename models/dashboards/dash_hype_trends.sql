-- hype_index per title and day with its trailing 7-day average, the change from the title's
-- previous active day, and the title's rank among all titles that day.
WITH daily AS (
    SELECT content_id, date, hype_index
    FROM {{ ref('content_metrics_daily') }}
    WHERE hype_index > 0
)
SELECT
    d.date AS date,
    d.content_id AS content_id,
    c.title AS title,
    c.genre AS genre,
    d.hype_index AS hype_index,
    round(avg(d.hype_index) OVER (PARTITION BY d.content_id ORDER BY d.date RANGE BETWEEN 6 PRECEDING AND CURRENT ROW), 2) AS hype_index_7d_avg,
    round(d.hype_index - lagInFrame(d.hype_index, 1, d.hype_index) OVER (PARTITION BY d.content_id ORDER BY d.date ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), 2) AS change,
    rank() OVER (PARTITION BY d.date ORDER BY d.hype_index DESC) AS rank_that_day
FROM daily AS d
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = d.content_id
ORDER BY date, rank_that_day
