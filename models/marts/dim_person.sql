{{ config(order_by='person_id') }}
-- Actors (from content.cast, photos from the aligned cast_photos) and directors, one row per
-- person and role. person_id is a hash of role and lower-cased name, stable across rebuilds.
SELECT
    cityHash64(role, lower(person_name)) AS person_id,
    min(person_name) AS name,
    role,
    nullIf(max(photo_url), '') AS photo_url,
    count() AS titles_count
FROM (
    -- every credit: each actor with the photo at the same position, and each director
    SELECT person_name, photo_url, 'ACTOR' AS role
    FROM {{ ref('stg_content') }}
    ARRAY JOIN `cast` AS person_name, arrayResize(cast_photos, length(`cast`), '') AS photo_url
    UNION ALL
    SELECT assumeNotNull(director), ifNull(director_photo_url, ''), 'DIRECTOR'
    FROM {{ ref('stg_content') }}
    WHERE director IS NOT NULL
)
WHERE person_name != ''
GROUP BY role, lower(person_name)
