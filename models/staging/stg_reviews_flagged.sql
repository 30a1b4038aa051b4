-- Every typed review with the reason it is dropped, or NULL when it is kept. The rules, in
-- order (the first that applies is the reason):
--   rating_missing, rating_out_of_range (outside 0-10 inclusive), invalid_created_at,
--   unknown_content, unknown_user; then among the remaining rows
--   duplicate_review_id (the same id loaded again: the latest updated/loaded copy is kept) and
--   duplicate_submission (same user_id, content_id, created_at: the lowest review_id is kept).
{% set check_reason -%}
multiIf(
    rating IS NULL, 'rating_missing',
    rating < 0 OR rating > 10, 'rating_out_of_range',
    created_at IS NULL, 'invalid_created_at',
    coalesce(content_id NOT IN (SELECT content_id FROM {{ ref('stg_content') }}), 1), 'unknown_content',
    coalesce(user_id NOT IN (SELECT user_id FROM {{ ref('stg_users') }}), 1), 'unknown_user',
    '')
{%- endset %}
{#- The copy of each review kept by the id rule: (review_id, _loaded_at) of rows that pass the checks. -#}
{% set kept_copies -%}
SELECT review_id, _loaded_at
FROM {{ ref('stg_reviews_typed') }}
WHERE {{ check_reason }} = ''
ORDER BY updated_at DESC NULLS LAST, _loaded_at DESC
LIMIT 1 BY review_id
{%- endset %}
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
        (review_id, _loaded_at) NOT IN ({{ kept_copies }}), 'duplicate_review_id',
        review_id NOT IN (
            -- the lowest review_id of each submission among the kept copies
            SELECT review_id
            FROM {{ ref('stg_reviews_typed') }}
            WHERE (review_id, _loaded_at) IN ({{ kept_copies }})
            ORDER BY review_id
            LIMIT 1 BY user_id, content_id, created_at
        ), 'duplicate_submission',
        ''
    ), '') AS reject_reason
FROM (
    SELECT *, {{ check_reason }} AS check_reason
    FROM {{ ref('stg_reviews_typed') }}
)
