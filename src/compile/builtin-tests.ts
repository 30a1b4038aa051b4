import type { MacroFile } from '../project/nodes.js';

/**
 * The built-in generic tests, written exactly like a user's custom generic test so both go
 * through one mechanism (a project may override one by defining a test of the same name).
 * Each returns the failing rows. The SQL runs on every supported ClickHouse: no CTEs, no window
 * functions, one JOIN at most (see docs/clickhouse-18.16-notes.md).
 */
const QUOTE = `"'" ~ (v | string | replace("\\\\", "\\\\\\\\") | replace("'", "\\\\'")) ~ "'"`;

const SOURCE = `
{% test not_null(model, column_name) %}
SELECT {{ column_name }}
FROM {{ model }}
WHERE {{ column_name }} IS NULL
{% endtest %}

{% test unique(model, column_name) %}
SELECT {{ column_name }} AS unique_field, count() AS n_records
FROM {{ model }}
WHERE {{ column_name }} IS NOT NULL
GROUP BY {{ column_name }}
HAVING count() > 1
{% endtest %}

{# NULLs pass, as in dbt: said explicitly, since ClickHouse 18.16 counts NULL NOT IN (…) as true. #}
{% test accepted_values(model, column_name, values, quote=true) %}
SELECT {{ column_name }} AS value_field, count() AS n_records
FROM {{ model }}
WHERE {{ column_name }} IS NOT NULL
  AND {{ column_name }} NOT IN ({% for v in values %}{% if quote %}{{ ${QUOTE} }}{% else %}{{ v }}{% endif %}{{ ", " if not loop.last }}{% endfor %})
GROUP BY {{ column_name }}
{% endtest %}

{% test relationships(model, column_name, to, field) %}
SELECT {{ column_name }} AS from_field
FROM {{ model }}
WHERE {{ column_name }} IS NOT NULL
  AND {{ column_name }} NOT IN (SELECT {{ field }} FROM {{ to }} WHERE {{ field }} IS NOT NULL)
{% endtest %}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
SELECT *
FROM {{ model }}
WHERE NOT (1 = 1
{%- if min_value is not none %} AND {{ column_name }} >{{ "=" if inclusive }} {{ min_value }}{% endif %}
{%- if max_value is not none %} AND {{ column_name }} <{{ "=" if inclusive }} {{ max_value }}{% endif %})
{% endtest %}

{% test expression_is_true(model, expression, column_name=none) %}
SELECT *
FROM {{ model }}
WHERE NOT ({% if column_name is not none %}{{ column_name }} {% endif %}{{ expression }})
{% endtest %}
`;

export const BUILTIN_TESTS_FILE: MacroFile = { path: '<kiln>/builtin_tests.sql', source: SOURCE };

export const BUILTIN_TEST_NAMES: readonly string[] = [
  'not_null', 'unique', 'accepted_values', 'relationships', 'accepted_range', 'expression_is_true',
];
