-- Critics vs audience per ISO week (Monday), for each title and for all titles together
-- (content_id 0, title 'All titles'): review counts, average ratings and the delta
-- critic_avg - audience_avg (NULL unless both sides reviewed that week).
{% set weekly_columns -%}
    countIf(source = 'critic') AS critic_reviews,
    {{ round_half_up("avgIf(rating, source = 'critic')") }} AS critic_avg,
    countIf(source = 'audience') AS audience_reviews,
    {{ round_half_up("avgIf(rating, source = 'audience')") }} AS audience_avg
{%- endset %}
SELECT
    w.week AS week,
    w.content_id AS content_id,
    if(w.content_id = 0, 'All titles', c.title) AS title,
    w.critic_reviews AS critic_reviews,
    if(w.critic_reviews = 0, NULL, w.critic_avg) AS critic_avg,
    w.audience_reviews AS audience_reviews,
    if(w.audience_reviews = 0, NULL, w.audience_avg) AS audience_avg,
    if(w.critic_reviews = 0 OR w.audience_reviews = 0, NULL, {{ round_half_up("w.critic_avg - w.audience_avg") }}) AS delta
FROM (
    SELECT toMonday(created_at) AS week, content_id, {{ weekly_columns }}
    FROM {{ ref('fact_reviews') }}
    GROUP BY week, content_id
    UNION ALL
    SELECT toMonday(created_at) AS week, toInt64(0) AS content_id, {{ weekly_columns }}
    FROM {{ ref('fact_reviews') }}
    GROUP BY week
) AS w
LEFT JOIN {{ ref('dim_content') }} AS c ON c.content_id = w.content_id
ORDER BY week, content_id
