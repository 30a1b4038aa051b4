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

const SOURCE_PATTERN = /\u0000source:([^\u0000]+)\u0000/g;

/** The key of a source table in placeholders and in RefTable.sources. */
export function sourceKey(source: string, table: string): string {
  return JSON.stringify([source, table]);
}

/**
 * `source()` renders a placeholder where its relation is decided later: a unit test's fixture
 * table (named at execution), or a source table declaring `event_time`, which a microbatch batch
 * reads filtered to its window. Replacing the source's relation as text would also hit string
 * literals.
 */
export function sourcePlaceholder(source: string, table: string): string {
  return `${MARK}source:${sourceKey(source, table)}${MARK}`;
}

const SOURCE_ONLY = /^\u0000source:([^\u0000]+)\u0000$/;

/** The source table of a value that is exactly one source placeholder. */
export function sourceOfPlaceholder(text: string): readonly [string, string] | undefined {
  const m = SOURCE_ONLY.exec(text);
  return m ? (JSON.parse(m[1]!) as [string, string]) : undefined;
}

/** Replaces every source placeholder with `resolve(source, table)`. */
export function resolveSourcePlaceholders(sql: string, resolve: (source: string, table: string) => string): string {
  if (!sql.includes(MARK)) return sql;
  return sql.replace(SOURCE_PATTERN, (_m, key: string) => {
    const [source, table] = JSON.parse(key) as [string, string];
    return resolve(source, table);
  });
}
