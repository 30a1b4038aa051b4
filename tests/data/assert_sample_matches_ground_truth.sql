-- On the committed sample (data_root = data) every count the generator planted
-- (seeds/sample_expectations.csv, written by scripts/make-app-dump.mjs) must come out of the
-- models exactly. On any other dataset this test has nothing to compare and passes.
{% if var('data_root') == 'data' %}
WITH actual AS (
    SELECT 'reviews.raw_rows' AS metric, toInt64(count()) AS value FROM {{ ref('stg_reviews_flagged') }}
    UNION ALL SELECT 'reviews.kept', count() FROM {{ ref('fact_reviews') }}
    UNION ALL SELECT 'reviews.kept_critic', countIf(source = 'critic') FROM {{ ref('fact_reviews') }}
    UNION ALL SELECT concat('reviews.rejected.', reason), rows FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'app.reviews'
    UNION ALL SELECT 'content.rows', count() FROM {{ ref('dim_content') }}
    UNION ALL SELECT 'content.nulled.invalid_created_at', countIf(created_at IS NULL) FROM {{ ref('dim_content') }}
    UNION ALL SELECT concat('content.type.', content_type), count() FROM {{ ref('dim_content') }} GROUP BY content_type
    UNION ALL SELECT 'users.rows', count() FROM {{ ref('dim_user') }}
    UNION ALL SELECT 'users.nulled.invalid_registration_date', countIf(registration_date IS NULL) FROM {{ ref('dim_user') }}
    UNION ALL SELECT concat('users.role.', role), count() FROM {{ ref('dim_user') }} GROUP BY role
    UNION ALL SELECT 'events.raw_lines', any(raw_rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events'
    UNION ALL SELECT 'events.kept', count() FROM {{ ref('fact_events') }}
    UNION ALL SELECT concat('events.rejected.', reason), sum(rows) FROM {{ ref('stg_rejects_summary') }} WHERE source_table = 'events.app_events' GROUP BY reason
    UNION ALL SELECT 'hero_carousel.active', value FROM {{ ref('dash_overview') }} WHERE metric = 'active_hero_slides'
    UNION ALL SELECT 'coming_soon_items.active', value FROM {{ ref('dash_overview') }} WHERE metric = 'active_coming_soon_items'
)
SELECT e.metric AS metric, e.expected AS expected, a.value AS actual
FROM {{ ref('sample_expectations') }} AS e
LEFT JOIN actual AS a ON a.metric = e.metric
WHERE a.value IS NULL OR a.value != e.expected
SETTINGS join_use_nulls = 1
{% else %}
SELECT 'not the sample data' AS metric WHERE 0
{% endif %}
