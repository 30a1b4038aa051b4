{#- History of the app's operational tables (SCD type 2), taken at each build: the app database
    keeps only the current row, so role changes and hype changes are recorded here. -#}

{% snapshot snap_users %}
{{ config(unique_key='user_id', strategy='check', check_cols=['role', 'is_active'], order_by='user_id', tags=['snapshots']) }}
-- An account's role (USER, CRITIC, ADMIN) and whether it is active, one version per change.
SELECT
    toInt64(src.id) AS user_id,
    upper({{ clean_string('src.role') }}) AS role,
    {{ to_bool('src.is_active') }} AS is_active
FROM (
    SELECT * FROM {{ source('app', 'users') }} ORDER BY _kiln_loaded_at DESC LIMIT 1 BY id
) AS src
{% endsnapshot %}

{% snapshot snap_content %}
{{ config(unique_key='content_id', strategy='check', check_cols=['hype_index'], order_by='content_id', tags=['snapshots']) }}
-- A title's hype_index (0-100, NULL when missing or out of range), one version per change.
SELECT
    toInt64(src.id) AS content_id,
    {{ clean_string('src.title') }} AS title,
    {{ number_in_range('src.hype_index', 0, 100) }} AS hype_index
FROM (
    SELECT * FROM {{ source('app', 'content') }} ORDER BY _kiln_loaded_at DESC LIMIT 1 BY id
) AS src
{% endsnapshot %}
