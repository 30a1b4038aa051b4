-- The string rules: trimmed everywhere; genre lower-case; content_type and role upper-case.
SELECT 'dim_content' AS model, toString(content_id) AS id, title AS value
FROM {{ ref('dim_content') }}
WHERE title != {{ trim_whitespace('title') }} OR genre != lower({{ trim_whitespace('genre') }}) OR content_type != upper({{ trim_whitespace('content_type') }})
   OR arrayExists(x -> x != {{ trim_whitespace('x') }}, arrayConcat(`cast`, platforms))
UNION ALL
SELECT 'dim_user', toString(user_id), role
FROM {{ ref('dim_user') }}
WHERE role != upper({{ trim_whitespace('role') }}) OR email != {{ trim_whitespace('email') }}
UNION ALL
SELECT 'dim_person', toString(person_id), name
FROM {{ ref('dim_person') }}
WHERE name != {{ trim_whitespace('name') }} OR name = ''
