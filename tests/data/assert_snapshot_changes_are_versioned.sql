-- A changed row gets a closed version and a new one: in each snapshot, every closed version is
-- followed by the version that starts when it ends, and every key has exactly one current version.
SELECT 'snap_users' AS snapshot, toString(user_id) AS id, 'closed version without a successor' AS problem
FROM {{ ref('snap_users') }}
WHERE dbt_valid_to IS NOT NULL
  AND (user_id, assumeNotNull(dbt_valid_to)) NOT IN (SELECT user_id, dbt_valid_from FROM {{ ref('snap_users') }})
UNION ALL
SELECT 'snap_users', toString(user_id), 'not exactly one current version'
FROM {{ ref('snap_users') }}
GROUP BY user_id
HAVING countIf(dbt_valid_to IS NULL) != 1
UNION ALL
SELECT 'snap_content', toString(content_id), 'closed version without a successor'
FROM {{ ref('snap_content') }}
WHERE dbt_valid_to IS NOT NULL
  AND (content_id, assumeNotNull(dbt_valid_to)) NOT IN (SELECT content_id, dbt_valid_from FROM {{ ref('snap_content') }})
UNION ALL
SELECT 'snap_content', toString(content_id), 'not exactly one current version'
FROM {{ ref('snap_content') }}
GROUP BY content_id
HAVING countIf(dbt_valid_to IS NULL) != 1
