{{ config(order_by='user_id') }}
-- One row per app account; registration_date NULL where the app stored an invalid date.
SELECT user_id, email, role, registration_date, is_active
FROM {{ ref('stg_users') }}
