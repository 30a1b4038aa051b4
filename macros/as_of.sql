{#
  The dashboards' "now". With var as_of set (e.g. --vars '{as_of: "2025-11-07 12:00:00"}') that
  moment; otherwise the latest review or event in the data, so windows like "last 7 days"
  always show the sample data however old it is. On live data the two coincide.
#}
{% macro as_of_time() -%}
{%- if var('as_of', '') -%}
toDateTime('{{ var("as_of") }}', 'UTC')
{%- else -%}
(SELECT toDateTime(greatest((SELECT max(created_at) FROM {{ ref('fact_reviews') }}), (SELECT toDateTime(max(event_time), 'UTC') FROM {{ ref('fact_events') }})), 'UTC'))
{%- endif -%}
{%- endmacro %}
