import { describe, expect, it } from 'vitest';
import { SERVER_CONSTRUCTS, rejectedConstruct } from '../../src/adapters/server-constructs.js';
import { SqlError } from '../../src/adapters/sql-error.js';

// Each error text below is what clickhouse-server 18.16.1 answered to the statement next to it.
const wrap = (select: string) => `CREATE TABLE \`analytics\`.\`__kiln_tmp__m\`\nENGINE = MergeTree()\nORDER BY tuple()\nAS \n${select}`;
const at = (sql: string, text: string) => sql.indexOf(text) + 1;

describe('constructs an old server lacks', () => {
  it('names a CTE rejected as a syntax error at the parenthesis after AS', () => {
    const sql = wrap('WITH latest AS (\n    SELECT * FROM `raw`.`app__users`\n)\nSELECT id FROM latest');
    const message = `Code: 62, e.displayText() = DB::Exception: Syntax error: failed at position ${at(sql, '(\n    SELECT')}: (\n    SELECT * FROM \`raw\`.\`app__users\`. Expected identifier, e.what() = DB::Exception`;
    expect(rejectedConstruct(message, sql)?.since).toBe('20.10');
    // the second CTE of a list is recognised too
    const two = wrap('WITH a AS (SELECT 1 AS x), b AS (SELECT 2 AS x)\nSELECT x FROM b');
    expect(rejectedConstruct(`Syntax error: failed at position ${at(two, '(SELECT 2')}: (SELECT 2 AS x)`, two)?.since).toBe('20.10');
  });

  it('does not blame a CTE for a syntax error elsewhere in a statement that has one', () => {
    const sql = wrap('WITH latest AS (SELECT 1 AS x)\nSELECT x + FROM latest');
    expect(rejectedConstruct(`Syntax error: failed at position ${at(sql, 'FROM latest')}: FROM latest. Expected one of: …`, sql)).toBeUndefined();
  });

  it('names trim(BOTH … FROM …), the trim functions and the JSON functions', () => {
    const sql = wrap("SELECT trim(BOTH ' \\t' FROM title) AS title FROM `raw`.`t`");
    const both = rejectedConstruct(`Syntax error: failed at position ${at(sql, "' \\t' FROM")}: ' \\t' FROM title) AS title. Expected one of: AS, Comma, …`, sql);
    expect(both?.construct).toContain('trim(BOTH');
    expect(both?.since).toBe('19.1');
    expect(rejectedConstruct('Code: 46, e.displayText() = DB::Exception: Unknown function trim, e.what() = DB::Exception', 'SELECT trim(x)')?.since).toBe('19.1');
    expect(rejectedConstruct('Unknown function trimBoth', 'SELECT trimBoth(x)')?.since).toBe('19.1');
    expect(rejectedConstruct('Unknown function JSONExtractString', "SELECT JSONExtractString(raw, 'a')")?.since).toBe('19.8');
    expect(rejectedConstruct('Unknown function isValidJSON', 'SELECT isValidJSON(raw)')?.since).toBe('19.8');
    expect(rejectedConstruct('Unknown function trimmed', 'SELECT trimmed(x)')).toBeUndefined();
  });

  it('names window functions, several JOINs, Bool, MySQLDump and newer settings', () => {
    const sql = 'SELECT number, row_number() OVER (PARTITION BY number % 2 ORDER BY number) AS r FROM numbers(3)';
    expect(rejectedConstruct('Syntax error: failed at position 34: (PARTITION BY number % 2 ORDER BY number) AS r FROM numbers(3). Unmatched parentheses: (', sql)?.construct).toContain('OVER');
    expect(rejectedConstruct('Support for more than one JOIN in query is not implemented', 'SELECT …')?.construct).toContain('JOIN');
    expect(rejectedConstruct('Unknown data type family: Bool', 'CREATE TABLE t (x Bool) ENGINE = Memory')?.since).toBe('21.12');
    expect(rejectedConstruct('Unknown format MySQLDump', 'SELECT …')?.since).toBe('22.10');
    expect(rejectedConstruct('Unknown setting insert_deduplication_token', 'INSERT …')?.since).toBe('22.2');
  });

  it('every entry says what to write instead', () => {
    for (const c of SERVER_CONSTRUCTS) {
      expect(c.instead.length).toBeGreaterThan(10);
      expect(c.since).toMatch(/^\d+\.\d+/);
    }
  });
});

describe('SqlError', () => {
  it('starts with the construct and its release, and hints at the portable form', () => {
    const err = new SqlError('Code: 46, e.displayText() = DB::Exception: Unknown function trimBoth, e.what() = DB::Exception', 46, 'SELECT trimBoth(x)');
    expect(err.message).toBe('this server lacks the trim functions (`trim`, `ltrim`, `rtrim`, `trimBoth`, `trimLeft`, `trimRight`), which ClickHouse has since 19.1: Unknown function trimBoth');
    expect(err.hint).toContain('replaceRegexpAll');
  });

  it('keeps the construct when placed on the model line, without saying it twice', () => {
    const sql = wrap('WITH latest AS (SELECT 1 AS x)\nSELECT x FROM latest');
    const err = new SqlError(`Syntax error: failed at position ${at(sql, '(SELECT 1')}: (SELECT 1 AS x). Expected identifier`, 62, sql);
    const placed = err.at({ file: 'models/m.sql', line: 1 }, 'Syntax error: failed: (SELECT 1 AS x). Expected identifier');
    expect(placed.missing?.since).toBe('20.10');
    expect(placed.message.match(/this server lacks/g)).toHaveLength(1);
    expect(placed.at({ file: 'models/m.sql', line: 1 }).message.match(/this server lacks/g)).toHaveLength(1);
    expect(placed.hint).toContain('subquery in FROM');
  });

  it('explains an unknown setting, engine or format the table does not list', () => {
    expect(new SqlError('Unknown setting max_bytes_ratio_before_external_sort', 115, 'SELECT 1').hint).toContain('setting max_bytes_ratio_before_external_sort');
    expect(new SqlError('Unknown table engine Foo', 56, 'CREATE TABLE …').hint).toContain('table engine Foo');
    expect(new SqlError('Table a.b does not exist', 60, 'SELECT 1').hint).toBeUndefined();
  });
});
