-- source is critic exactly for reviews by CRITIC users.
SELECT f.review_id, f.source, u.role
FROM {{ ref('fact_reviews') }} AS f
INNER JOIN {{ ref('dim_user') }} AS u ON u.user_id = f.user_id
WHERE (u.role = 'CRITIC') != (f.source = 'critic')
