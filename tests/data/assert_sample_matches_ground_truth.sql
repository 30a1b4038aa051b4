-- On the committed sample (data_root = data) every count the generator planted
-- (seeds/sample_expectations.csv, written by scripts/make-app-dump.mjs) must come out of the
-- models exactly. On any other dataset this test has nothing to compare and passes.
{% if var('data_root') == 'data' %}
SELECT e.metric AS metric, e.expected AS expected, a.value AS actual
FROM {{ ref('sample_expectations') }} AS e
LEFT JOIN (
    -- every metric of the sample as the models count it (every branch names its columns, and
    -- takes them from a subquery where the names would shadow the relation's own columns)
    SELECT 'reviews.raw_rows' AS metric, toInt64(count()) AS value FROM {{ ref('stg_reviews_flagged') }}
    UNION ALL SELECT 'reviews.kept' AS metric, toInt64(count()) AS value FROM {{ ref('fact_reviews') }}
    UNION ALL SELECT 'reviews.kept_critic' AS metric, toInt64(countIf(source = 'critic')) AS value FROM {{ ref('fact_reviews') }}
    UNION ALL SELECT concat('reviews.rejected.', reason) AS metric, toInt64(rows) AS value FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'app.reviews'
    UNION ALL SELECT 'content.rows' AS metric, toInt64(count()) AS value FROM {{ ref('dim_content') }}
    UNION ALL SELECT 'content.nulled.invalid_created_at' AS metric, toInt64(countIf(created_at IS NULL)) AS value FROM {{ ref('dim_content') }}
    UNION ALL SELECT concat('content.type.', content_type) AS metric, toInt64(count()) AS value FROM {{ ref('dim_content') }} GROUP BY content_type
    UNION ALL SELECT 'users.rows' AS metric, toInt64(count()) AS value FROM {{ ref('dim_user') }}
    UNION ALL SELECT 'users.nulled.invalid_registration_date' AS metric, toInt64(countIf(registration_date IS NULL)) AS value FROM {{ ref('dim_user') }}
    UNION ALL SELECT concat('users.role.', role) AS metric, toInt64(count()) AS value FROM {{ ref('dim_user') }} GROUP BY role
    UNION ALL SELECT 'events.raw_lines' AS metric, toInt64(coalesce(any(raw_rows), 0)) AS value FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events'
    UNION ALL SELECT 'events.kept' AS metric, toInt64(count()) AS value FROM {{ ref('fact_events') }}
    UNION ALL SELECT concat('events.rejected.', reason) AS metric, toInt64(sum(rows)) AS value FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events' GROUP BY reason
    UNION ALL SELECT 'hero_carousel.active' AS metric, toInt64(n) AS value FROM (SELECT value AS n FROM {{ ref('dash_overview') }} WHERE metric = 'active_hero_slides')
    UNION ALL SELECT 'coming_soon_items.active' AS metric, toInt64(n) AS value FROM (SELECT value AS n FROM {{ ref('dash_overview') }} WHERE metric = 'active_coming_soon_items')
) AS a ON a.metric = e.metric
WHERE a.value IS NULL OR a.value != e.expected
SETTINGS join_use_nulls = 1
{% else %}
SELECT 'not the sample data' AS metric WHERE 0
{% endif %}
