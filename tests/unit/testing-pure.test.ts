import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { countFailures, countFailuresBatch, insertRows, selectAllFrom, whereSubquery } from '../../src/adapters/test-queries.js';
import { parseThreshold, testConfig, testStatus } from '../../src/compile/test-config.js';
import { synthesizeTestNames } from '../../src/compile/test-names.js';
import { KilnError } from '../../src/errors.js';
import { junitXml } from '../../src/report/junit.js';
import type { NodeResult } from '../../src/report/run-results.js';
import { diffRows, formatRowDiff, isEmptyDiff } from '../../src/testing/row-diff.js';

describe('generic test names (dbt spelling)', () => {
  it('joins the test, the model and the flattened arguments', () => {
    expect(synthesizeTestNames('not_null', 'dim_content', { column_name: 'content_id', model: 'x' }).full).toBe('not_null_dim_content_content_id');
    expect(synthesizeTestNames('relationships', 'fact_reviews', { column_name: 'content_id', to: "ref('dim_content')", field: 'content_id' }).full).toBe(
      'relationships_fact_reviews_content_id__content_id__ref_dim_content_',
    );
    expect(synthesizeTestNames('accepted_values', 'dim_content', { column_name: 'content_type', values: ['MOVIE', 'SERIES'] }).full).toBe(
      'accepted_values_dim_content_content_type__MOVIE__SERIES',
    );
    expect(synthesizeTestNames('accepted_range', 'f', { column_name: 'r', min_value: 0, inclusive: false }).full).toBe('accepted_range_f_r__False__0');
  });

  it('hashes names of 64 characters or more like dbt: 30 characters and an md5', () => {
    const names = synthesizeTestNames('accepted_values', 'fact_content_metrics_daily', { column_name: 'source', values: ['critic', 'audience', 'other'] });
    expect(names.full).toBe('accepted_values_fact_content_metrics_daily_source__critic__audience__other');
    expect(names.short).toMatch(/^accepted_values_fact_content_m_[0-9a-f]{32}$/);
    expect(names.short.slice(-32)).toBe(createHash('md5').update(names.full).digest('hex'));
    expect(names.short.length).toBeLessThan(64);
  });
});

describe('severity, warn_if and error_if', () => {
  const cfg = (raw: Record<string, unknown>) => testConfig([raw], { file: 'm.yml', line: 3 });

  it('fails an error-severity test with failing rows and passes one without', () => {
    expect(testStatus(0, cfg({}))).toBe('pass');
    expect(testStatus(3, cfg({}))).toBe('fail');
  });

  it('warns instead of failing with severity warn, whatever error_if says', () => {
    expect(testStatus(3, cfg({ severity: 'warn' }))).toBe('warn');
    expect(testStatus(3, cfg({ severity: 'warn', error_if: '>0' }))).toBe('warn');
  });

  it('applies thresholds: error_if first, then warn_if', () => {
    const c = cfg({ error_if: '>10', warn_if: '>2' });
    expect(testStatus(2, c)).toBe('pass');
    expect(testStatus(5, c)).toBe('warn');
    expect(testStatus(11, c)).toBe('fail');
  });

  it('rejects a threshold that is not a comparison, with the file and line', () => {
    expect(() => parseThreshold('lots', 'warn_if', { file: 'm.yml', line: 3 })).toThrow(/warn_if 'lots'/);
    try {
      cfg({ error_if: 'many' });
    } catch (err) {
      expect((err as KilnError).location).toEqual({ file: 'm.yml', line: 3 });
      return;
    }
    throw new Error('expected an error');
  });

  it('accumulates tags over folder and test config; the test wins elsewhere', () => {
    const c = testConfig([{ '+severity': 'warn', tags: ['a'] }, { severity: 'error', tags: ['b'] }], { file: 'x' });
    expect(c.severity).toBe('ERROR');
    expect(c.tags).toEqual(['a', 'b']);
  });
});

describe('row diff', () => {
  const cols = ['id', 'v'];
  it('ignores order and counts duplicates', () => {
    expect(isEmptyDiff(diffRows(cols, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }], [{ id: 2, v: 'b' }, { id: 1, v: 'a' }]))).toBe(true);
    const d = diffRows(cols, [{ id: 1, v: 'a' }, { id: 1, v: 'a' }], [{ id: 1, v: 'a' }]);
    expect(d.missing).toEqual([{ id: 1, v: 'a' }]);
  });

  it('prints only the differing rows as a table', () => {
    const d = diffRows(cols, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }], [{ id: 1, v: 'a' }, { id: 2, v: null }]);
    const text = formatRowDiff(cols, d, 2, 2);
    expect(text).toBe(
      ['expected 2 rows, got 2: 1 expected row missing (-), 1 unexpected (+)', '    | id | v', '  - | 2  | b', '  + | 2  | NULL'].join('\n'),
    );
  });
});

describe('test SQL text', () => {
  it('counts failing rows, with the limit inside', () => {
    expect(countFailures('SELECT * FROM t WHERE x IS NULL;', 5)).toBe('SELECT count() AS failures FROM (\nSELECT * FROM t WHERE x IS NULL\nLIMIT 5\n)');
    expect(countFailuresBatch([{ sql: 'SELECT 1', limit: null }, { sql: 'SELECT 2', limit: null }])).toContain('UNION ALL');
  });

  it('inlines fixture rows after FORMAT', () => {
    expect(insertRows({ database: 's', name: 't' }, ['a'], 'CSV', '1\n2')).toBe('INSERT INTO `s`.`t` (`a`) FORMAT CSV\n1\n2');
    // The alias is dbt's: a test's macro or its `where` may name it.
    expect(whereSubquery('`a`.`t`', 'x > 1')).toBe('(SELECT * FROM `a`.`t` WHERE x > 1) AS dbt_subquery');
    expect(selectAllFrom('`a_test_failures`.`t`')).toBe('SELECT * FROM `a_test_failures`.`t`');
  });
});

describe('JUnit XML', () => {
  const result = (unique_id: string, status: NodeResult['status'], extra: Partial<NodeResult> = {}): NodeResult => ({
    unique_id,
    status,
    execution_time: 0.5,
    rows_affected: null,
    failures: null,
    message: null,
    thread_id: 'Thread-1',
    timing: [],
    adapter_response: {},
    ...extra,
  });

  it('has one testsuite per resource type and failures with row count and compiled SQL path', () => {
    const xml = junitXml([
      result('model.p.m', 'success'),
      result('test.p.not_null_m_id', 'fail', { failures: 3, message: 'models/s.yml:4: not_null_m_id: got 3 failing rows <x>', compiled_path: 'target/compiled/models/s.yml/not_null_m_id.sql' }),
      result('test.p.unique_m_id', 'warn', { failures: 1, message: 'dup' }),
      result('unit_test.p.m.works', 'skipped', { message: 'skipped: upstream' }),
    ]);
    expect(xml.match(/<testsuite /g)).toHaveLength(3);
    expect(xml).toContain('<testsuite name="data tests" tests="2" failures="1" errors="0" skipped="0"');
    expect(xml).toContain('<failure type="fail" message="3 failing rows">');
    expect(xml).toContain('compiled SQL: target/compiled/models/s.yml/not_null_m_id.sql');
    expect(xml).toContain('&lt;x&gt;');
    expect(xml).toContain('<skipped message="skipped: upstream"/>');
  });
});
