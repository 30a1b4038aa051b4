-- Every typed review with the reason it is dropped, or NULL when it is kept. The rules, in
-- order (the first that applies is the reason):
--   rating_missing, rating_out_of_range (outside 0-10 inclusive), invalid_created_at,
--   unknown_content, unknown_user; then among the remaining rows
--   duplicate_review_id (the same id loaded again: the latest updated/loaded copy is kept) and
--   duplicate_submission (same user_id, content_id, created_at: the lowest review_id is kept).
WITH checked AS (
    SELECT
        *,
        multiIf(
            rating IS NULL, 'rating_missing',
            rating < 0 OR rating > 10, 'rating_out_of_range',
            created_at IS NULL, 'invalid_created_at',
            coalesce(content_id NOT IN (SELECT content_id FROM {{ ref('stg_content') }}), true), 'unknown_content',
            coalesce(user_id NOT IN (SELECT user_id FROM {{ ref('stg_users') }}), true), 'unknown_user',
            ''
        ) AS check_reason
    FROM {{ ref('stg_reviews_typed') }}
),
by_id AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY check_reason = '', review_id
            ORDER BY updated_at DESC NULLS LAST, _loaded_at DESC
        ) AS id_rank
    FROM checked
),
by_submission AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY check_reason = '' AND id_rank = 1, user_id, content_id, created_at
            ORDER BY review_id
        ) AS submission_rank
    FROM by_id
)
SELECT
    review_id,
    content_id,
    user_id,
    rating,
    created_at,
    updated_at,
    _loaded_at,
    nullIf(multiIf(
        check_reason != '', check_reason,
        id_rank > 1, 'duplicate_review_id',
        submission_rank > 1, 'duplicate_submission',
        ''
    ), '') AS reject_reason
FROM by_submission
