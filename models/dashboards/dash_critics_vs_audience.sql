-- Critics vs audience per ISO week (Monday), for each title and for all titles together
-- (content_id 0, title 'All titles'): review counts, average ratings and the delta
-- critic_avg - audience_avg (NULL unless both sides reviewed that week).
WITH weekly AS (
    SELECT
        toMonday(created_at) AS week,
        content_id,
        countIf(source = 'critic') AS critic_reviews,
        round(avgIf(rating, source = 'critic'), 2) AS critic_avg,
        countIf(source = 'audience') AS audience_reviews,
        round(avgIf(rating, source = 'audience'), 2) AS audience_avg,
        grouping(content_id) AS all_titles
    FROM {{ ref('fact_reviews') }}
    GROUP BY GROUPING SETS ((week, content_id), (week))
)
SELECT
    w.week AS week,
    if(w.all_titles = 1, 0, w.content_id) AS content_id,
    if(w.all_titles = 1, 'All titles', c.title) AS title,
    w.critic_reviews AS critic_reviews,
    if(w.critic_reviews = 0, NULL, w.critic_avg) AS critic_avg,
    w.audience_reviews AS audience_reviews,
    if(w.audience_reviews = 0, NULL, w.audience_avg) AS audience_avg,
    if(w.critic_reviews = 0 OR w.audience_reviews = 0, NULL, round(w.critic_avg - w.audience_avg, 2)) AS delta
FROM weekly AS w
LEFT JOIN {{ ref('dim_content') }} AS c ON c.content_id = w.content_id
ORDER BY week, content_id
