import { describe, expect, it } from 'vitest';
import { secondStatementAt } from '../../src/adapters/statements.js';

const second = (sql: string) => {
  const at = secondStatementAt(sql);
  return at === undefined ? undefined : sql.slice(at);
};

describe('one statement per query', () => {
  it('finds a second statement after a top-level semicolon', () => {
    expect(second('SELECT 1; DROP TABLE t')).toBe('DROP TABLE t');
    expect(second('SELECT 1;\n-- note\n/* c */ SELECT 2')).toBe('SELECT 2');
    expect(second('SELECT 1;;SELECT 2')).toBe('SELECT 2');
  });

  it('allows one trailing semicolon, with comments and blank lines after it', () => {
    expect(second('SELECT 1;')).toBeUndefined();
    expect(second('SELECT 1 ;\n\n-- done\n/* really */\n')).toBeUndefined();
    expect(second('')).toBeUndefined();
  });

  it('ignores semicolons in strings, quoted identifiers and comments', () => {
    expect(second("SELECT 'a; b', \"c;d\", `e;f` FROM t")).toBeUndefined();
    expect(second("SELECT 'it''s; fine' AS v")).toBeUndefined();
    // An escaped backslash ends the string: what follows the ';' is a statement.
    expect(second("SELECT 'back\\\\'; DROP TABLE t")).toBe('DROP TABLE t');
    expect(second('SELECT 1 -- ; DROP TABLE t\nFROM t')).toBeUndefined();
    expect(second('SELECT /* ; DROP */ 1')).toBeUndefined();
    // The string ends, then a real second statement follows.
    expect(second("SELECT 'a'; DROP TABLE t")).toBe('DROP TABLE t');
    expect(second("SELECT 'a\\'; DROP TABLE t'")).toBeUndefined();
  });
});
