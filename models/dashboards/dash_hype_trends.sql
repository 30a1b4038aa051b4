-- hype_index per title and day with its trailing 7-day average, the change from the title's
-- previous active day, and the title's rank among all titles that day. Written with arrays
-- instead of window functions, which ClickHouse has only since 21.3 (README, "Supported servers").
SELECT
    t.date AS date,
    t.content_id AS content_id,
    c.title AS title,
    c.genre AS genre,
    t.hype_index AS hype_index,
    t.hype_index_7d_avg AS hype_index_7d_avg,
    t.change AS change,
    t.rank_that_day AS rank_that_day
FROM (
    SELECT
        s.date AS date,
        s.content_id AS content_id,
        s.hype_index AS hype_index,
        s.hype_index_7d_avg AS hype_index_7d_avg,
        s.change AS change,
        r.rank_that_day AS rank_that_day
    FROM (
        -- per title, its active days in date order: the average over the days in the last 7
        -- calendar days, and the change from the previous active day (0 on the first)
        SELECT
            content_id,
            date,
            hype_index,
            {{ round_half_up("arraySum(arrayFilter((h, d) -> d > date - 7 AND d <= date, hypes, dates)) / arrayCount(d -> d > date - 7 AND d <= date, dates)") }} AS hype_index_7d_avg,
            {{ round_half_up("hype_index - previous_hype") }} AS change
        FROM (
            SELECT content_id, arraySort(groupArray(date)) AS dates, arraySort((h, d) -> d, groupArray(hype_index), groupArray(date)) AS hypes
            FROM {{ ref('content_metrics_daily') }}
            WHERE hype_index > 0
            GROUP BY content_id
        )
        ARRAY JOIN dates AS date, hypes AS hype_index, arrayPushFront(arrayPopBack(hypes), hypes[1]) AS previous_hype
    ) AS s
    INNER JOIN (
        -- rank() among the day's titles: 1 + the titles with a higher hype_index that day
        SELECT date, content_id, toUInt64(1 + arrayCount(h -> h > hype_index, day_hypes)) AS rank_that_day
        FROM (
            SELECT date, groupArray(content_id) AS ids, groupArray(hype_index) AS day_hypes
            FROM {{ ref('content_metrics_daily') }}
            WHERE hype_index > 0
            GROUP BY date
        )
        ARRAY JOIN ids AS content_id, day_hypes AS hype_index
    ) AS r ON r.content_id = s.content_id AND r.date = s.date
) AS t
INNER JOIN {{ ref('dim_content') }} AS c ON c.content_id = t.content_id
ORDER BY date, rank_that_day
