-- Metacritic-style export. metascore outside 0-100 and 'tbd' become NULL.
SELECT
    {{ clean_string('src.title') }} AS title,
    {{ title_key('src.title') }} AS title_key,
    toUInt16OrNull({{ clean_string('src.year') }}) AS year,
    CAST({{ number_in_range('src.metascore', 0, 100) }} AS Nullable(UInt8)) AS metascore,
    toUInt32OrNull({{ clean_string('src.critic_reviews') }}) AS critic_reviews,
    arrayFilter(x -> x != '', [
        if(nullIf({{ clean_string('src.metascore') }}, '') IS NOT NULL AND {{ number_in_range('src.metascore', 0, 100) }} IS NULL, 'metascore', '')
    ]) AS _nulled
FROM {{ source('exports', 'metacritic_scores') }} AS src
