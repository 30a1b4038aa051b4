/**
 * Where a second top-level statement starts in `sql`, if it has one: the first character that is
 * not whitespace, a comment or a `;` after a top-level `;`. Semicolons inside strings, quoted
 * identifiers and comments do not count, and one trailing `;` is allowed. ClickHouse's own
 * lexical rules: '…' strings with backslash and doubled-quote escapes, "…" and `…` identifiers,
 * `--` line comments, and non-nesting block comments.
 */
export function secondStatementAt(sql: string): number | undefined {
  let ended = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 1;
      continue;
    }
    if (c === ';') {
      ended = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (ended) return i;
    if (c === "'" || c === '"' || c === '`') i = closingQuote(sql, i, c);
  }
  return undefined;
}

/** Index of the quote closing the one at `start` (backslash escapes and doubled quotes skipped). */
function closingQuote(sql: string, start: number, quote: string): number {
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql[i];
    if (c === '\\') i++;
    else if (c === quote) {
      if (sql[i + 1] === quote) i++;
      else return i;
    }
  }
  return sql.length;
}
