-- One row per title, cleaned. Invalid dates and out-of-range numbers become NULL and the row
-- stays (a dimension); _nulled lists which fields were nulled, for stg_rejects_summary.
SELECT
    toInt64(src.id) AS content_id,
    {{ clean_string('src.title') }} AS title,
    upper({{ clean_string('src.content_type') }}) AS content_type,
    lower({{ clean_string('src.genre') }}) AS genre,
    CAST({{ number_in_range('src.release_year', 1888, 2100) }} AS Nullable(UInt16)) AS release_year,
    {{ clean_optional_string('src.director') }} AS director,
    {{ clean_optional_string('src.director_photo_url') }} AS director_photo_url,
    {{ json_string_array('src.`cast`', keep_empty=true) }} AS `cast`,
    {{ json_string_array('src.cast_photos', keep_empty=true) }} AS cast_photos,
    {{ json_string_array('src.platforms') }} AS platforms,
    {{ number_in_range('src.hype_index', 0, 100) }} AS hype_index,
    {{ parse_utc('src.created_at') }} AS created_at,
    {{ parse_utc('src.updated_at') }} AS updated_at,
    src._nulled AS _nulled,
    src._kiln_loaded_at AS _loaded_at
FROM (
    -- the latest staged copy of each row, with the fields its cleaning sets to NULL (decided
    -- on the raw values here: 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [
            if(release_year IS NOT NULL AND {{ number_in_range('release_year', 1888, 2100) }} IS NULL, 'release_year', ''),
            if(hype_index IS NOT NULL AND {{ number_in_range('hype_index', 0, 100) }} IS NULL, 'hype_index', ''),
            if({{ parse_utc('created_at') }} IS NULL, 'created_at', ''),
            if({{ parse_utc('updated_at') }} IS NULL, 'updated_at', '')
        ]) AS _nulled
    FROM {{ source('app', 'content') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
) AS src
