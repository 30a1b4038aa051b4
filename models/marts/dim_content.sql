{{ config(engine='ReplacingMergeTree()', order_by='content_id') }}
-- One row per title, with the IMDB and Metacritic scores of the same lower-case title and year
-- (for each, the export row with the most votes or critic reviews). One JOIN per SELECT, so
-- every ClickHouse kiln supports builds it (18.16 joins two relations at a time).
SELECT
    c.content_id AS content_id,
    c.title AS title,
    c.content_type AS content_type,
    c.genre AS genre,
    c.release_year AS release_year,
    c.director AS director,
    c.director_photo_url AS director_photo_url,
    c.`cast` AS `cast`,
    c.platforms AS platforms,
    c.hype_index AS hype_index,
    c.imdb_id AS imdb_id,
    c.imdb_rating AS imdb_rating,
    c.imdb_votes AS imdb_votes,
    m.metascore AS metascore,
    m.critic_reviews AS metacritic_reviews,
    c.created_at AS created_at,
    c.updated_at AS updated_at
FROM (
    SELECT
        c.content_id AS content_id, c.title AS title, c.content_type AS content_type, c.genre AS genre,
        c.release_year AS release_year, c.director AS director, c.director_photo_url AS director_photo_url,
        c.`cast` AS `cast`, c.platforms AS platforms, c.hype_index AS hype_index,
        c.created_at AS created_at, c.updated_at AS updated_at,
        i.imdb_id AS imdb_id, i.imdb_rating AS imdb_rating, i.num_votes AS imdb_votes
    FROM {{ ref('stg_content') }} AS c
    LEFT JOIN (
        SELECT title_key, year, imdb_id, imdb_rating, num_votes
        FROM {{ ref('stg_imdb_titles') }}
        WHERE year IS NOT NULL
        ORDER BY coalesce(num_votes, 0) DESC, imdb_id
        LIMIT 1 BY title_key, year
    ) AS i ON i.title_key = lower(c.title) AND i.year = c.release_year
) AS c
LEFT JOIN (
    SELECT title_key, year, metascore, critic_reviews
    FROM {{ ref('stg_metacritic_scores') }}
    WHERE year IS NOT NULL
    ORDER BY coalesce(critic_reviews, 0) DESC
    LIMIT 1 BY title_key, year
) AS m ON m.title_key = lower(c.title) AND m.year = c.release_year
SETTINGS join_use_nulls = 1
