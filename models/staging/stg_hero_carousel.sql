-- Home page hero slides; invalid start/end times become NULL (open-ended).
SELECT
    toInt64(src.id) AS slide_id,
    {{ to_int('src.content_id') }} AS content_id,
    {{ to_int('src.position') }} AS position,
    {{ to_bool('src.is_active') }} AS is_active,
    {{ parse_utc('src.starts_at') }} AS starts_at,
    {{ parse_utc('src.ends_at') }} AS ends_at,
    src._nulled AS _nulled
FROM (
    -- the latest staged copy of each row, with the fields its cleaning sets to NULL (decided
    -- on the raw values here: 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [
            if(nullIf({{ clean_string('starts_at') }}, '') IS NOT NULL AND {{ parse_utc('starts_at') }} IS NULL, 'starts_at', ''),
            if(nullIf({{ clean_string('ends_at') }}, '') IS NOT NULL AND {{ parse_utc('ends_at') }} IS NULL, 'ends_at', '')
        ]) AS _nulled
    FROM {{ source('app', 'hero_carousel') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
) AS src
