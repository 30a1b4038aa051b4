import { stripTrailingSemicolon } from '../adapters/ddl.js';
import { errorPosition } from '../adapters/sql-error-position.js';
import type { SourceLocation } from '../errors.js';
import { lineAndColumn, templateLineOf } from './template-lines.js';
import { escapeRegExp } from '../escape-regexp.js';

/**
 * Where in the model's own file an SQL error is: the statement ClickHouse rejected wraps the
 * model's SQL (CREATE … AS, INSERT … SELECT), so its position is moved into that SQL, then back
 * to the template line that rendered it. Just the file when the error is in the wrapping DDL or
 * cannot be placed.
 */
export function sqlErrorLocation(
  error: { readonly message: string; readonly sql: string },
  model: { readonly file: string; readonly template: string; readonly sql: readonly string[] },
): SourceLocation {
  const where: SourceLocation = { file: model.file };
  const position = errorPosition(error.message, error.sql);
  if (!position) return where;
  // The model's SQL as embedded in the statement (an incremental model has two variants; the
  // full one may be the start of the incremental one, so the longest that fits is the one sent).
  const sql = model.sql
    .map(stripTrailingSemicolon)
    .filter((s) => s.length > 0 && error.sql.includes(s))
    .sort((a, b) => b.length - a.length)[0];
  if (sql === undefined) return where;
  const start = error.sql.indexOf(sql);
  let offset: number;
  if ('offset' in position) {
    offset = position.offset - start;
    if (offset < 0 || offset > sql.length) return where;
  } else {
    const escaped = escapeRegExp(position.name);
    const m = new RegExp(`(?<![\\w.])\`?${escaped}\`?${position.call ? '\\s*\\(' : '(?![\\w(])'}`).exec(sql);
    if (!m) return where;
    offset = m.index;
  }
  const at = lineAndColumn(sql, offset);
  const line = templateLineOf(model.template, sql, at.line);
  if (line === undefined) return where;
  const renderedLine = sql.split('\n')[at.line - 1]!;
  const templateLine = model.template.split('\n')[line - 1]!;
  if (templateLine === renderedLine) return { ...where, line, column: at.column };
  if ('name' in position) {
    const i = templateLine.indexOf(position.name);
    if (i >= 0) return { ...where, line, column: i + 1 };
  }
  return { ...where, line };
}
