-- Nothing lost: every raw review is either in fact_reviews or counted once in stg_rejects_summary.
SELECT raw_rows, kept, dropped
FROM (
    SELECT
        (SELECT count() FROM {{ ref('stg_reviews_flagged') }}) AS raw_rows,
        (SELECT count() FROM {{ ref('fact_reviews') }}) AS kept,
        (SELECT sum(rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'app.reviews' AND action = 'dropped') AS dropped
)
WHERE raw_rows != kept + dropped
