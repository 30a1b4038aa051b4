-- Announced titles; content_id is NULL until the title is in the catalog. An invalid
-- release_date becomes NULL (date not announced).
SELECT
    toInt64(src.id) AS item_id,
    {{ to_int('src.content_id') }} AS content_id,
    {{ clean_string('src.title') }} AS title,
    {{ parse_date('src.release_date') }} AS release_date,
    {{ to_bool('src.is_active') }} AS is_active,
    src._nulled AS _nulled
FROM (
    -- the latest staged copy of each row, with the fields its cleaning sets to NULL (decided
    -- on the raw values here: 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [
            if(nullIf({{ clean_string('release_date') }}, '') IS NOT NULL AND {{ parse_date('release_date') }} IS NULL, 'release_date', '')
        ]) AS _nulled
    FROM {{ source('app', 'coming_soon_items') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
) AS src
