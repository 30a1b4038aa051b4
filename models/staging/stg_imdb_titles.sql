-- IMDB-style export. Ratings outside 0-10 and non-numbers ('N/A', '') become NULL; vote counts
-- lose their thousands separators.
SELECT
    {{ clean_string('src.tconst') }} AS imdb_id,
    {{ clean_string('src.title') }} AS title,
    {{ title_key('src.title') }} AS title_key,
    toUInt16OrNull({{ clean_string('src.year') }}) AS year,
    {{ number_in_range('src.imdb_rating', 0, 10) }} AS imdb_rating,
    toUInt64OrNull(replaceAll({{ clean_string('src.num_votes') }}, ',', '')) AS num_votes,
    src._nulled AS _nulled
FROM (
    -- each row with the fields its cleaning sets to NULL (decided on the raw values here:
    -- 18.16 would read src.x in the outer list as the cleaned alias x)
    SELECT *,
        arrayFilter(x -> x != '', [
            if(nullIf({{ clean_string('imdb_rating') }}, '') IS NOT NULL AND {{ number_in_range('imdb_rating', 0, 10) }} IS NULL, 'imdb_rating', '')
        ]) AS _nulled
    FROM {{ source('exports', 'imdb_titles') }}
) AS src
