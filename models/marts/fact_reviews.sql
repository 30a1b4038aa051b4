{{ config(
    materialized='incremental',
    incremental_strategy='delete_insert',
    unique_key='review_id',
    partition_by='toYYYYMM(created_at)',
    order_by='(content_id, created_at, review_id)'
) }}
-- One row per kept review (stg_reviews_flagged has the rules). source is the reviewer's role:
-- critic for CRITIC users, audience otherwise. Incremental: a run adds (or replaces, by
-- review_id) the reviews staged since the last run.
SELECT
    r.review_id AS review_id,
    r.content_id AS content_id,
    r.user_id AS user_id,
    r.rating AS rating,
    r.created_at AS created_at,
    if(u.role = 'CRITIC', 'critic', 'audience') AS source,
    r.updated_at AS updated_at,
    r._loaded_at AS _loaded_at
FROM {{ ref('stg_reviews') }} AS r
LEFT JOIN {{ ref('stg_users') }} AS u ON u.user_id = r.user_id
{% if is_incremental() %}
WHERE r._loaded_at > (SELECT max(_loaded_at) FROM {{ this }})
{% endif %}
