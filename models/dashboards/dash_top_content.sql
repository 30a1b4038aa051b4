-- Top 10 titles by reviews_count over the last 7 and the last 30 days (window_days), counted
-- back from as_of_time() (the latest moment in the data unless var as_of is set). Ties go to
-- the higher avg_rating, then the lower content_id.
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
FROM (
    -- each title's rank in its window: 1 + the titles ahead of it (arrays, not window functions)
    SELECT
        window_days,
        toUInt64(1 + arrayCount((n, a, id) -> n > reviews_count OR (n = reviews_count AND (a > avg_rating OR (a = avg_rating AND id < content_id))),
                                window_counts, window_ratings, window_ids)) AS rank,
        content_id,
        reviews_count,
        avg_rating,
        hype_index
    FROM (
        SELECT
            window_days,
            groupArray(content_id) AS window_ids,
            groupArray(title_reviews) AS window_counts,
            groupArray(title_rating) AS window_ratings,
            groupArray(title_hype) AS window_hypes
        FROM (
            -- per window and title: reviews, their average rating and the summed hype
            SELECT
                window_days,
                m.content_id AS content_id,
                sum(m.reviews_count) AS title_reviews,
                assumeNotNull({{ round_half_up("sumIf(m.avg_rating * m.reviews_count, m.reviews_count > 0) / nullIf(sum(m.reviews_count), 0)") }}) AS title_rating,
                {{ round_half_up("sum(m.hype_index)") }} AS title_hype
            FROM {{ ref('content_metrics_daily') }} AS m
            ARRAY JOIN [7, 30] AS window_days
            WHERE m.date > toDate({{ as_of_time() }}) - window_days
            GROUP BY window_days, content_id
            HAVING title_reviews > 0
        )
        GROUP BY window_days
    )
    ARRAY JOIN window_ids AS content_id, window_counts AS reviews_count, window_ratings AS avg_rating, window_hypes AS hype_index
) AS r
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = r.content_id
WHERE r.rank <= 10
ORDER BY window_days, rank
