-- Every raw review row, typed: rating as a number (NULL when missing or not numeric),
-- created_at in UTC (NULL when invalid). stg_reviews_flagged decides which rows survive.
-- (The columns are the macro typed_review_columns, which fact_content_metrics_daily shares.)
SELECT
{{ typed_review_columns('src') }}
FROM {{ source('app', 'reviews') }} AS src
