import { quoteIdentifier } from './quoting.js';

/** The CTE an ephemeral model becomes in the queries that read it. */
export function ephemeralCteName(model: string): string {
  return quoteIdentifier(`__kiln_cte__${model}`);
}

/** An ephemeral model's query in place of a reference to it, for servers without CTEs. */
export function inlineSubquery(sql: string): string {
  return `(\n${sql.trim()}\n)`;
}

/**
 * Ephemeral models are inlined as CTEs. A query that already starts with WITH gets ours
 * prepended to its list; leading comments are kept in place.
 */
export function injectCtes(sql: string, ctes: ReadonlyArray<{ readonly name: string; readonly sql: string }>): string {
  if (ctes.length === 0) return sql;
  const defs = ctes.map((c) => `${c.name} AS (\n${c.sql}\n)`).join(',\n');
  const lead = /^(\s*(?:--[^\n]*\n|\/\*[\s\S]*?\*\/)\s*)*/.exec(sql)?.[0] ?? '';
  const rest = sql.slice(lead.length);
  const withKw = /^with\b\s*/i.exec(rest);
  if (withKw) return `${lead}WITH ${defs},\n${rest.slice(withKw[0].length)}`;
  return `${lead}WITH ${defs}\n${rest}`;
}
