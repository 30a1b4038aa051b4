import { insertInto, rel, stripTrailingSemicolon, type Relation } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * SQL text for running tests. Pure, like ddl.ts: a data test is a query for failing rows, counted
 * here; a unit test loads fixture rows into scratch tables and compares the model's output with
 * its expected rows in ClickHouse, reading rows back only to show a failure.
 */

function limited(sql: string, limit: number | null): string {
  const body = stripTrailingSemicolon(sql);
  return limit === null ? body : `${body}\nLIMIT ${Math.max(0, Math.floor(limit))}`;
}

/** A data test's `where` config: the tested relation narrowed, under the alias dbt gives it. */
export function whereSubquery(relation: string, condition: string): string {
  return `(SELECT * FROM ${relation} WHERE ${condition}) AS dbt_subquery`;
}

/** How a person reads a stored test's failing rows. */
export function selectAllFrom(relation: string): string {
  return `SELECT * FROM ${relation}`;
}

/** The number of failing rows (at most `limit`). */
/** `failCalc`: dbt's fail_calc, an aggregate over the failing rows (default: how many there are). */
export function countFailures(sql: string, limit: number | null, failCalc = 'count(*)'): string {
  return `SELECT ${failCalc === 'count(*)' ? 'count()' : failCalc} AS failures FROM (\n${limited(sql, limit)}\n)`;
}

/**
 * Several tests' failure counts in one statement (one row per test, `i` its index). Measured in
 * bench/tests-bench.js against one statement per test.
 */
export function countFailuresBatch(tests: ReadonlyArray<{ readonly sql: string; readonly limit: number | null }>): string {
  return tests.map((t, i) => `SELECT ${i} AS i, count() AS failures FROM (\n${limited(t.sql, t.limit)}\n)`).join('\nUNION ALL\n');
}

/** The failing rows, for store_failures (a plain MergeTree table: its columns can be anything). */
export function failuresTableSelect(sql: string, limit: number | null): string {
  return limited(sql, limit);
}

/** A scratch table for fixture rows: in memory, dropped with its database after the test. */
export function createFixtureTable(target: Relation, columns: ReadonlyArray<{ readonly name: string; readonly type: string }>): string {
  const cols = columns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`).join(', ');
  return `CREATE TABLE ${rel(target)} (${cols}) ENGINE = Memory`;
}

/** An empty in-memory table with the columns `select` produces (all, or the named ones). */
export function createFixtureTableLike(target: Relation, select: string, columns?: readonly string[]): string {
  const list = columns ? columns.map(quoteIdentifier).join(', ') : '*';
  return `CREATE TABLE ${rel(target)} ENGINE = Memory AS SELECT ${list} FROM (\n${stripTrailingSemicolon(select)}\n) LIMIT 0`;
}

/**
 * Fixture rows inline after FORMAT, so ClickHouse parses them into the column types (and fills
 * columns a row leaves out with their defaults). Works through chdb and over HTTP alike.
 */
export function insertRows(target: Relation, columns: readonly string[], format: 'JSONEachRow' | 'CSV', body: string): string {
  return insertInto(target, columns, { format, inline: body });
}

/** Columns of several tables in one query (system.columns keeps table order). */
export function columnsOfTables(relations: readonly Relation[]): string {
  const list = (values: readonly string[]) => [...new Set(values)].map(quoteString).join(', ');
  return `SELECT database, table, name, type FROM system.columns WHERE database IN (${list(relations.map((r) => r.database))}) AND table IN (${list(relations.map((r) => r.name))})`;
}

export function describeTable(target: Relation): string {
  return `DESCRIBE TABLE ${rel(target)}`;
}

/** `columns` of a relation or a subquery, in a stable order for comparing as multisets. */
export function selectColumns(from: string, columns: readonly string[]): string {
  return `SELECT ${columns.map(quoteIdentifier).join(', ')} FROM ${from}`;
}

export function subquery(select: string): string {
  return `(\n${stripTrailingSemicolon(select)}\n)`;
}

/**
 * One row, `same` = 1 when `select` returns exactly the rows of `expected` on `columns`, as
 * multisets: both sides sorted into one array of tuples each (a tuple keeps NULLs that
 * groupArray would skip). Works on 18.16, which has no EXCEPT.
 */
export function sameRows(select: string, expected: Relation, columns: readonly string[]): string {
  const cols = columns.map(quoteIdentifier).join(', ');
  const sorted = (from: string) => `(SELECT arraySort(groupArray(tuple(${cols}))) FROM ${from})`;
  return `SELECT ${sorted(`(SELECT ${cols} FROM (\n${stripTrailingSemicolon(select)}\n))`)} = ${sorted(rel(expected))} AS same`;
}

/** The number of rows `select` returns. */
export function countRowsOf(select: string): string {
  return `SELECT count() AS n FROM (\n${stripTrailingSemicolon(select)}\n)`;
}

export function listDatabases(): string {
  return 'SELECT name FROM system.databases';
}

export function createScratchDatabase(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteIdentifier(database)}`;
}

export function dropScratchDatabase(database: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`;
}


/**
 * A column named in YAML as kiln's generic tests put it into SQL. `quote: true` on the column:
 * always an identifier; `quote: false`: as written (an expression, dbt's behaviour). Unsaid: a
 * single function call (`coalesce(a, b)`, `lower(email)`) is an expression and left as written;
 * anything else is a column name and quoted, so a name with a space, a reserved word or text
 * such as `a) OR (1=1` stays one identifier (an unknown column at worst) and never changes the
 * test's condition.
 */
export function testColumn(name: string, quote: boolean | undefined): string {
  if (quote === false || (quote === undefined && isFunctionCall(name))) return name;
  return quoteIdentifier(name);
}

/** `f(...)` whose first parenthesis closes at the very end (quotes respected). */
function isFunctionCall(text: string): boolean {
  const m = /^\s*[A-Za-z_][A-Za-z0-9_]*\s*\(/.exec(text);
  if (!m) return false;
  let depth = 1;
  let quote: string | null = null;
  let i = m[0].length;
  for (; i < text.length && depth > 0; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
  }
  return depth === 0 && quote === null && text.slice(i).trim() === '';
}
