-- IMDB-style export. Ratings outside 0-10 and non-numbers ('N/A', '') become NULL; vote counts
-- lose their thousands separators.
SELECT
    {{ clean_string('src.tconst') }} AS imdb_id,
    {{ clean_string('src.title') }} AS title,
    {{ title_key('src.title') }} AS title_key,
    toUInt16OrNull({{ clean_string('src.year') }}) AS year,
    {{ number_in_range('src.imdb_rating', 0, 10) }} AS imdb_rating,
    toUInt64OrNull(replaceAll({{ clean_string('src.num_votes') }}, ',', '')) AS num_votes,
    arrayFilter(x -> x != '', [
        if(nullIf({{ clean_string('src.imdb_rating') }}, '') IS NOT NULL AND {{ number_in_range('src.imdb_rating', 0, 10) }} IS NULL, 'imdb_rating', '')
    ]) AS _nulled
FROM {{ source('exports', 'imdb_titles') }} AS src
