import { describe, expect, it } from 'vitest';
import { errorPosition, withoutStatementPosition } from '../../src/adapters/sql-error-position.js';
import { sqlErrorLocation } from '../../src/compile/sql-error-location.js';
import { literalParts, templateLineOf } from '../../src/compile/template-lines.js';

const wrap = (sql: string) => `CREATE TABLE \`a\`.\`__kiln_tmp__m\`\nENGINE = MergeTree()\nORDER BY tuple()\nAS \n${sql}`;

describe("ClickHouse's error positions", () => {
  const stmt = 'SELECT 1,\n  (2 + AS x';
  it('reads a syntax error by line and column, or by position alone (18.16)', () => {
    expect(errorPosition('Syntax error: failed at position 13 (() (line 2, col 3): (2 + AS x', stmt)).toEqual({ offset: 12 });
    expect(errorPosition('Syntax error: failed at position 13: (2 + AS x', stmt)).toEqual({ offset: 12 });
  });

  it('reads the unknown name of current servers and of 18.16', () => {
    expect(errorPosition('Unknown expression or function identifier `no_col` in scope SELECT …', stmt)).toEqual({ name: 'no_col', call: false });
    expect(errorPosition('Unknown expression identifier `t.no_col` in scope …', stmt)).toEqual({ name: 'no_col', call: false });
    expect(errorPosition("Missing columns: 'no_col' while processing query: 'SELECT …'", stmt)).toEqual({ name: 'no_col', call: false });
    expect(errorPosition('Unknown identifier: no_col', stmt)).toEqual({ name: 'no_col', call: false });
    expect(errorPosition('Unknown function trimBoth', stmt)).toEqual({ name: 'trimBoth', call: true });
    expect(errorPosition('Table a.b does not exist', stmt)).toBeUndefined();
  });

  it("drops the statement's own position once the error has the model's line", () => {
    expect(withoutStatementPosition('Syntax error: failed at position 131 (() (line 7, col 3): (2 + AS x')).toBe("Syntax error: failed at '(': (2 + AS x");
    expect(withoutStatementPosition('Syntax error: failed at position 131: (2 + AS x')).toBe('Syntax error: failed: (2 + AS x');
  });
});

describe('template lines', () => {
  it('splits a line into its literal text around Jinja', () => {
    expect(literalParts("  FROM {{ ref('a') }} AS a  {# note #}")).toEqual(['FROM', 'AS a']);
    expect(literalParts('{% if x %}')).toEqual([]);
  });

  it('finds the template line of a rendered line, nearest first, across lines a block removed', () => {
    const template = "{{ config(materialized='table') }}\nSELECT id,\n{% if var('x', false) %}\n  extra,\n{% endif %}\n  total\nFROM {{ ref('orders') }}";
    const rendered = '\nSELECT id,\n\n  total\nFROM `db`.`orders`';
    expect(templateLineOf(template, rendered, 2)).toBe(2);
    expect(templateLineOf(template, rendered, 4)).toBe(6);
    expect(templateLineOf(template, rendered, 5)).toBe(7);
    expect(templateLineOf(template, '{{ generated }}\nSELECT 42 AS made_up', 2)).toBeUndefined();
  });
});

describe("an SQL error on the model's own line", () => {
  const template = "{{ config(materialized='table') }}\nSELECT 1 AS id,\n  no_col + 1 AS x\nFROM {{ ref('a') }}";
  const sql = "\nSELECT 1 AS id,\n  no_col + 1 AS x\nFROM `db`.`a`";
  const model = { file: 'models/m.sql', template, sql: [sql] };

  it('places an unknown column at its line and column', () => {
    expect(sqlErrorLocation({ message: 'Unknown expression or function identifier `no_col` in scope …', sql: wrap(sql) }, model)).toEqual({ file: 'models/m.sql', line: 3, column: 3 });
  });

  it('moves a syntax error from the wrapping statement into the model', () => {
    const bad = "\nSELECT 1 AS id,\n  (2 + AS x\nFROM `db`.`a`";
    const stmt = wrap(bad);
    const line = stmt.split('\n').findIndex((l) => l.includes('(2 +')) + 1;
    const located = sqlErrorLocation(
      { message: `Syntax error: failed at position 99 (() (line ${line}, col 3): (2 + AS x`, sql: stmt },
      { file: 'models/m.sql', template: "{{ config(materialized='table') }}\nSELECT 1 AS id,\n  (2 + AS x\nFROM {{ ref('a') }}", sql: [bad] },
    );
    expect(located).toEqual({ file: 'models/m.sql', line: 3, column: 3 });
  });

  it('keeps just the file when the error is in the DDL around the model, or not in it at all', () => {
    expect(sqlErrorLocation({ message: 'Syntax error: failed at position 3 (line 1, col 3): TABLE', sql: wrap(sql) }, model)).toEqual({ file: 'models/m.sql' });
    expect(sqlErrorLocation({ message: 'Table db.a does not exist', sql: wrap(sql) }, model)).toEqual({ file: 'models/m.sql' });
  });

  it("reports the line only where the template line differs from what it rendered", () => {
    const t = "SELECT id, {{ 'no_col' }} + 1 AS x\nFROM t";
    const r = 'SELECT id, no_col + 1 AS x\nFROM t';
    expect(sqlErrorLocation({ message: 'Syntax error: failed at position 12 (line 1, col 12): no_col', sql: r }, { file: 'm.sql', template: t, sql: [r] })).toEqual({ file: 'm.sql', line: 1 });
  });
});
