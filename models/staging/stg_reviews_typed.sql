-- Every raw review row, typed: rating as a number (NULL when missing or not numeric),
-- created_at in UTC (NULL when invalid). stg_reviews_flagged decides which rows survive.
SELECT
    toInt64(src.id) AS review_id,
    {{ to_int('src.content_id') }} AS content_id,
    {{ to_int('src.user_id') }} AS user_id,
    toFloat64OrNull({{ clean_string('src.rating') }}) AS rating,
    {{ parse_utc('src.created_at') }} AS created_at,
    {{ parse_utc('src.updated_at') }} AS updated_at,
    src._kiln_loaded_at AS _loaded_at
FROM {{ source('app', 'reviews') }} AS src
