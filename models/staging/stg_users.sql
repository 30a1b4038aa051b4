-- One row per app account. role upper-cased (USER, CRITIC, ADMIN); an invalid
-- registration_date becomes NULL and the account stays.
SELECT
    toInt64(src.id) AS user_id,
    lower({{ clean_string('src.email') }}) AS email,
    upper({{ clean_string('src.role') }}) AS role,
    {{ parse_utc('src.registration_date') }} AS registration_date,
    {{ to_bool('src.is_active') }} AS is_active,
    src._nulled AS _nulled,
    src._kiln_loaded_at AS _loaded_at
FROM (
    -- the latest staged copy of each row, with the fields its cleaning sets to NULL (decided
    -- on the raw values here: 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [if({{ parse_utc('registration_date') }} IS NULL, 'registration_date', '')]) AS _nulled
    FROM {{ source('app', 'users') }}
    ORDER BY _kiln_loaded_at DESC
    LIMIT 1 BY id
) AS src
