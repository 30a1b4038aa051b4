{{ config(partition_by='toYYYYMM(event_time)', order_by='(event_type, event_time)') }}
-- Every app event whose line parsed and whose ts is a real moment (review_created included:
-- it is telemetry; fact_reviews comes from the reviews table).
SELECT
    event_time,
    user_id,
    content_id,
    event_type,
    metadata
FROM {{ ref('stg_events') }}
