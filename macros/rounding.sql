{#
  expr rounded to `digits` decimals, halves rounded up. ClickHouse's round() breaks an exact tie
  (4.625) one way on 18.16 (away from zero) and the other on current servers (to even), so the
  models round with this instead and read the same on every engine.
#}
{% macro round_half_up(expr, digits=2) -%}
{%- set scale = 10 ** digits -%}
(floor(({{ expr }}) * {{ scale }} + 0.5) / {{ scale }})
{%- endmacro %}
