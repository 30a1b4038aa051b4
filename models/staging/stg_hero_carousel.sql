-- Home page hero slides; invalid start/end times become NULL (open-ended).
WITH latest AS (
    SELECT *
    FROM {{ source('app', 'hero_carousel') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
)
SELECT
    toInt64(src.id) AS slide_id,
    {{ to_int('src.content_id') }} AS content_id,
    {{ to_int('src.position') }} AS position,
    {{ to_bool('src.is_active') }} AS is_active,
    {{ parse_utc('src.starts_at') }} AS starts_at,
    {{ parse_utc('src.ends_at') }} AS ends_at,
    arrayFilter(x -> x != '', [
        if(nullIf({{ clean_string('src.starts_at') }}, '') IS NOT NULL AND {{ parse_utc('src.starts_at') }} IS NULL, 'starts_at', ''),
        if(nullIf({{ clean_string('src.ends_at') }}, '') IS NOT NULL AND {{ parse_utc('src.ends_at') }} IS NULL, 'ends_at', '')
    ]) AS _nulled
FROM latest AS src
