/**
 * `ref()` renders a placeholder, not a relation: a relation's name depends on the referenced
 * model's own config (database, alias, ephemeral), known only after every model is rendered.
 * NUL bytes cannot occur in SQL text, so a placeholder can never collide with user SQL.
 */
const MARK = '\u0000';
const PATTERN = /\u0000ref:([^\u0000]+)\u0000/g;

export function refPlaceholder(name: string): string {
  return `${MARK}ref:${name}${MARK}`;
}

/** Replaces every placeholder with `resolve(name)`. */
export function resolvePlaceholders(sql: string, resolve: (name: string) => string): string {
  if (!sql.includes(MARK)) return sql;
  return sql.replace(PATTERN, (_m, name: string) => resolve(name));
}
