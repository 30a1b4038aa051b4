import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { allOutput, removeProjects, runKiln, runResults, writeProject } from '../helpers/kiln-cli.js';

/**
 * Every built-in generic test, a store_failures test and a unit test against the oldest server
 * we support (18.16: no CTEs, strict IN types, no Bool).
 */
describeWithClickHouse('data tests and unit tests on a ClickHouse server', (getServer) => {
  afterAll(removeProjects);

  it('runs the built-in tests and a unit test, with the same statuses as the embedded engine', async () => {
    const server = getServer();
    const db = `tests_${process.pid}`;
    const dir = writeProject({
      'project.yml': `name: proj
target: srv
targets:
  srv: { engine: clickhouse, url: "{{ env_var('CH_URL') }}", username: "{{ env_var('CH_USER') }}", password: "{{ env_var('CH_PASSWORD', '') }}", database: ${db}, raw_database: ${db}_raw }
`,
      'seeds/countries.csv': 'code,name\nFR,France\nDE,Germany\n',
      'models/stg_reviews.sql':
        "{{ config(materialized='table') }}\nSELECT toUInt32(number + 1) AS review_id, if(number = 2, 'XX', 'FR') AS country, toFloat64(number * 4) AS rating FROM system.numbers LIMIT 3",
      'models/eph.sql': "{{ config(materialized='ephemeral') }}\nSELECT review_id FROM {{ ref('stg_reviews') }}",
      'models/fct.sql': "SELECT review_id, rating FROM {{ ref('stg_reviews') }} WHERE rating <= 10 AND review_id IN (SELECT review_id FROM {{ ref('eph') }})",
      'models/schema.yml': `models:
  - name: stg_reviews
    columns:
      - name: review_id
        data_tests: [unique, not_null]
      - name: country
        data_tests:
          - accepted_values: { values: [FR, DE], config: { store_failures: true } }
          - relationships: { to: "ref('countries')", field: code, config: { severity: warn } }
      - name: rating
        data_tests:
          - accepted_range: { min_value: 0, max_value: 10 }
  - name: fct
    data_tests:
      - expression_is_true: { expression: "rating >= 0" }
unit_tests:
  - name: filters_high_ratings
    model: fct
    given:
      - input: ref('stg_reviews')
        rows: [{ review_id: 1, rating: 3 }, { review_id: 2, rating: 30 }]
      - input: ref('eph')
        rows: [{ review_id: 1 }, { review_id: 2 }]
    expect:
      rows: [{ review_id: 1, rating: 3 }]
`,
    });
    const r = await runKiln(dir, ['build'], { env: { CH_URL: server.url, CH_USER: server.username, CH_PASSWORD: server.password } });
    expect(r.code, allOutput(r)).toBe(1);
    const s = (id: string) => runResults(dir).get(id)?.status;
    expect(s('test.proj.unique_stg_reviews_review_id')).toBe('pass');
    expect(s('test.proj.not_null_stg_reviews_review_id')).toBe('pass');
    expect(s('test.proj.accepted_values_stg_reviews_country__FR__DE')).toBe('fail');
    expect(s('test.proj.relationships_stg_reviews_country__code__ref_countries_')).toBe('warn');
    expect(s('test.proj.accepted_range_stg_reviews_rating__10__0')).toBe('pass');
    expect(s('unit_test.proj.fct.filters_high_ratings')).toBe('skipped');
    expect(s('model.proj.fct')).toBe('skipped');

    // With the failing test relaxed to a warning, everything runs, including the unit test.
    const schema = readFileSync(`${dir}/models/schema.yml`, 'utf8').replace('store_failures: true', 'store_failures: true, severity: warn');
    writeFileSync(`${dir}/models/schema.yml`, schema);
    const ok = await runKiln(dir, ['build'], { env: { CH_URL: server.url, CH_USER: server.username, CH_PASSWORD: server.password } });
    expect(ok.code, allOutput(ok)).toBe(0);
    expect(s('unit_test.proj.fct.filters_high_ratings')).toBe('pass');
    expect(s('test.proj.expression_is_true_fct_rating_0')).toBe('pass');
    expect(s('model.proj.fct')).toBe('success');
  });
});
