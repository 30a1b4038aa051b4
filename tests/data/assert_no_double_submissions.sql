-- The dedup rule holds in the fact: one review per (user_id, content_id, created_at).
SELECT user_id, content_id, created_at, groupArray(review_id) AS review_ids
FROM {{ ref('fact_reviews') }}
GROUP BY user_id, content_id, created_at
HAVING count() > 1
