-- The /dashboard numbers as (metric, label, value) rows: content totals by type, active hero
-- slides and coming-soon items (as of as_of_time()), users by role.
-- Every branch names its columns: 18.16 reads a UNION ALL view's columns by name.
SELECT 'content_total' AS metric, content_type AS label, count() AS value
FROM {{ ref('dim_content') }} GROUP BY content_type
UNION ALL
SELECT 'content_total' AS metric, 'ALL' AS label, count() AS value FROM {{ ref('dim_content') }}
UNION ALL
SELECT 'active_hero_slides' AS metric, '' AS label, countIf(
    is_active
    AND (starts_at IS NULL OR starts_at <= {{ as_of_time() }})
    AND (ends_at IS NULL OR ends_at > {{ as_of_time() }})) AS value
FROM {{ ref('stg_hero_carousel') }}
UNION ALL
SELECT 'active_coming_soon_items' AS metric, '' AS label, countIf(is_active AND (release_date IS NULL OR release_date >= toDate({{ as_of_time() }}))) AS value
FROM {{ ref('stg_coming_soon_items') }}
UNION ALL
SELECT 'users_by_role' AS metric, role AS label, count() AS value FROM {{ ref('dim_user') }} GROUP BY role
