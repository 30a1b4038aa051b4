-- Metacritic-style export. metascore outside 0-100 and 'tbd' become NULL.
SELECT
    {{ clean_string('src.title') }} AS title,
    {{ title_key('src.title') }} AS title_key,
    toUInt16OrNull({{ clean_string('src.year') }}) AS year,
    CAST({{ number_in_range('src.metascore', 0, 100) }} AS Nullable(UInt8)) AS metascore,
    toUInt32OrNull({{ clean_string('src.critic_reviews') }}) AS critic_reviews,
    src._nulled AS _nulled
FROM (
    -- each row with the fields its cleaning sets to NULL (decided on the raw values here:
    -- 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [
            if(nullIf({{ clean_string('metascore') }}, '') IS NOT NULL AND {{ number_in_range('metascore', 0, 100) }} IS NULL, 'metascore', '')
        ]) AS _nulled
    FROM {{ source('exports', 'metacritic_scores') }}
) AS src
