-- The reviews that pass every rule of stg_reviews_flagged: one row per review.
SELECT
    review_id,
    assumeNotNull(content_id) AS content_id,
    assumeNotNull(user_id) AS user_id,
    assumeNotNull(rating) AS rating,
    assumeNotNull(created_at) AS created_at,
    updated_at,
    _loaded_at
FROM {{ ref('stg_reviews_flagged') }}
WHERE reject_reason IS NULL
