{{ config(order_by='person_id') }}
-- Actors (from content.cast, photos from the aligned cast_photos) and directors, one row per
-- person and role. person_id is a hash of role and lower-cased name, stable across rebuilds.
WITH appearances AS (
    SELECT pair.1 AS person_name, pair.2 AS photo_url, 'ACTOR' AS role
    FROM {{ ref('stg_content') }}
    ARRAY JOIN arrayZip(`cast`, arrayResize(cast_photos, length(`cast`), '')) AS pair
    UNION ALL
    SELECT assumeNotNull(director), coalesce(director_photo_url, ''), 'DIRECTOR'
    FROM {{ ref('stg_content') }}
    WHERE director IS NOT NULL
)
SELECT
    cityHash64(role, lower(person_name)) AS person_id,
    min(person_name) AS name,
    role,
    nullIf(max(photo_url), '') AS photo_url,
    count() AS titles_count
FROM appearances
WHERE person_name != ''
GROUP BY role, lower(person_name)
