-- The string rules: trimmed everywhere; genre lower-case; content_type and role upper-case.
SELECT 'dim_content' AS model, toString(content_id) AS id, title AS value
FROM {{ ref('dim_content') }}
WHERE title != trim(BOTH ' \t\r\n' FROM title) OR genre != lower(trim(genre)) OR content_type != upper(trim(content_type))
   OR arrayExists(x -> x != trim(BOTH ' \t\r\n' FROM x), arrayConcat(`cast`, platforms))
UNION ALL
SELECT 'dim_user', toString(user_id), role
FROM {{ ref('dim_user') }}
WHERE role != upper(trim(role)) OR email != trim(email)
UNION ALL
SELECT 'dim_person', toString(person_id), name
FROM {{ ref('dim_person') }}
WHERE name != trim(BOTH ' \t\r\n' FROM name) OR name = ''
