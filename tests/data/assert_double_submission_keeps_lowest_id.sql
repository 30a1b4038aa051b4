-- Every review dropped as a duplicate_submission has a kept twin with the same
-- (user_id, content_id, created_at) and a lower review_id.
SELECT d.review_id, d.user_id, d.content_id, d.created_at
FROM {{ ref('stg_reviews_flagged') }} AS d
LEFT JOIN {{ ref('stg_reviews') }} AS k
    ON k.user_id = d.user_id AND k.content_id = d.content_id AND k.created_at = d.created_at
WHERE d.reject_reason = 'duplicate_submission'
  AND NOT (k.review_id != 0 AND k.review_id < d.review_id)
