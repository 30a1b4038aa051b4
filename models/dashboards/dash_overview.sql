-- The /dashboard numbers as (metric, label, value) rows: content totals by type, active hero
-- slides and coming-soon items (as of as_of_time()), users by role.
WITH now_utc AS (
    SELECT {{ as_of_time() }} AS t
)
SELECT 'content_total' AS metric, content_type AS label, count() AS value
FROM {{ ref('dim_content') }} GROUP BY content_type
UNION ALL
SELECT 'content_total', 'ALL', count() FROM {{ ref('dim_content') }}
UNION ALL
SELECT 'active_hero_slides', '', countIf(
    is_active
    AND (starts_at IS NULL OR starts_at <= (SELECT t FROM now_utc))
    AND (ends_at IS NULL OR ends_at > (SELECT t FROM now_utc)))
FROM {{ ref('stg_hero_carousel') }}
UNION ALL
SELECT 'active_coming_soon_items', '', countIf(is_active AND (release_date IS NULL OR release_date >= toDate((SELECT t FROM now_utc))))
FROM {{ ref('stg_coming_soon_items') }}
UNION ALL
SELECT 'users_by_role', role, count() FROM {{ ref('dim_user') }} GROUP BY role
