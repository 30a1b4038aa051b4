-- Announced titles; content_id is NULL until the title is in the catalog. An invalid
-- release_date becomes NULL (date not announced).
WITH latest AS (
    SELECT *
    FROM {{ source('app', 'coming_soon_items') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
)
SELECT
    toInt64(src.id) AS item_id,
    {{ to_int('src.content_id') }} AS content_id,
    {{ clean_string('src.title') }} AS title,
    {{ parse_date('src.release_date') }} AS release_date,
    {{ to_bool('src.is_active') }} AS is_active,
    arrayFilter(x -> x != '', [
        if(nullIf({{ clean_string('src.release_date') }}, '') IS NOT NULL AND {{ parse_date('src.release_date') }} IS NULL, 'release_date', '')
    ]) AS _nulled
FROM latest AS src
