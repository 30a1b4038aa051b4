import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * ClickHouse SQL text that types and reads a seed CSV as dbt does. dbt reads a seed with agate:
 * each column gets the first of integer, number, date, datetime, boolean that every non-empty
 * field of it parses as, else text; an empty field, or the word null, is NULL. Both statements
 * read the file on the engine in this process (the embedded engine, or the local engine of a
 * server target), so the CSV is parsed by one reader, the same way on every target.
 */

/** What a seed column's values all are (agate's order of preference), or `empty`: no value at all. */
export type SeedValueKind = 'integer' | 'number' | 'date' | 'datetime' | 'boolean' | 'text' | 'empty';

/** A seed column as it is read: its name, its table type, and how a field becomes a value. */
export interface SeedColumn {
  readonly name: string;
  readonly type: string;
  /** `declared`: the type came from `column_types`, and ClickHouse parses the field as that type. */
  readonly kind: SeedValueKind | 'declared';
}

/**
 * Per column, a field trimmed, or NULL when empty or the word `null` in any case (dbt's agate
 * reads both as None, in every column kiln types itself): what agate sees.
 */
const field = (name: string) => {
  const trimmed = `trimBoth(${quoteIdentifier(name)})`;
  return `if(lower(${trimmed}) IN ('', 'null'), NULL, ${trimmed})`;
};

/** Patterns a field must match to be of a kind (agate's parsers, to the precision dbt seeds use). */
const PATTERNS: ReadonlyArray<readonly [Exclude<SeedValueKind, 'text' | 'empty'>, string]> = [
  // At most 18 digits: every such integer fits Int64.
  ['integer', '^[-+]?[0-9]{1,18}$'],
  ['number', '^[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?$'],
  ['date', '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$'],
  // `YYYY-MM-DD HH:MM:SS` and ISO 8601 (`T`, fractions of a second, `Z` or an offset).
  ['datetime', '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[-+][0-9]{2}(:?[0-9]{2})?)?$'],
  ['boolean', '(?i)^(true|false)$'],
];

/** A time with fractions of a second. */
const FRACTION = ':[0-9]{2}\\.[0-9]+';

/** Every column read as text: the structure `file()` is given to profile the fields. */
function textStructure(names: readonly string[], declared: Readonly<Record<string, string>> = {}): string {
  return names.map((n) => `${quoteIdentifier(n)} ${declared[n] ?? 'Nullable(String)'}`).join(', ');
}

function source(path: string, structure: string): string {
  return `file(${quoteString(path)}, 'CSVWithNames', ${quoteString(structure)})`;
}

/**
 * One row: per column `n_<i>` (non-empty fields), `<kind>_<i>` (fields of each kind) and
 * `frac_<i>` (datetimes with fractions of a second). Columns are numbered, as names may be anything.
 */
export function seedProfile(path: string, names: readonly string[]): string {
  const parts = names.flatMap((name, i) => [
    `countIf(${field(name)} IS NOT NULL) AS n_${i}`,
    ...PATTERNS.map(([kind, re]) => `countIf(match(${field(name)}, ${quoteString(re)})) AS ${kind}_${i}`),
    `countIf(match(${field(name)}, ${quoteString(FRACTION)})) AS frac_${i}`,
  ]);
  return `SELECT count() AS rows, ${parts.join(', ')}\nFROM ${source(path, textStructure(names))}`;
}

/** A profile row's counts as each column's kind: the first kind every non-empty field has. */
export function kindsOfProfile(names: readonly string[], row: Readonly<Record<string, unknown>>): Array<{ kind: SeedValueKind; nullable: boolean; fraction: boolean }> {
  const n = (key: string) => Number(row[key] ?? 0);
  return names.map((_, i) => {
    const present = n(`n_${i}`);
    const nullable = present < n('rows');
    if (present === 0) return { kind: 'empty', nullable, fraction: false };
    const kind = PATTERNS.find(([k]) => n(`${k}_${i}`) === present)?.[0] ?? 'text';
    return { kind, nullable, fraction: n(`frac_${i}`) > 0 };
  });
}

/** The ClickHouse type of a column of a kind; the adapter maps it to one an older server has. */
export function seedType(kind: SeedValueKind, nullable: boolean, fraction: boolean): string {
  const base = { integer: 'Int64', number: 'Float64', date: 'Date', datetime: fraction ? 'DateTime64(6)' : 'DateTime', boolean: 'Bool', text: 'String', empty: 'String' }[kind];
  // A column with no value at all stays Nullable(String), as kiln typed such seeds before.
  return nullable || kind === 'empty' ? `Nullable(${base})` : base;
}

/** A field as a value of its column's type. */
function valueOf(c: SeedColumn): string {
  const q = quoteIdentifier(c.name);
  const f = field(c.name);
  const toType = (expr: string) => `CAST(${expr}, ${quoteString(c.type)})`;
  switch (c.kind) {
    case 'declared':
      return q;
    case 'integer':
      return toType(`toInt64OrNull(${f})`);
    case 'number':
      return toType(`toFloat64OrNull(${f})`);
    case 'date':
      return toType(`toDate(parseDateTimeBestEffortOrNull(${f}, 'UTC'))`);
    case 'datetime':
      return toType(`parseDateTime64BestEffortOrNull(${f}, 6)`);
    case 'boolean':
      return toType(`if(${f} IS NULL, NULL, lower(${f}) = 'true')`);
    case 'text':
    case 'empty':
      // Empty or `null` is NULL, quoted ("") or not; other text is kept as written.
      return toType(`if(${f} IS NULL, NULL, ${q})`);
  }
}

/** The seed's rows as its columns' types, read from the file: what the INSERT into the seed table selects. */
export function seedRows(path: string, columns: readonly SeedColumn[]): string {
  const declared = Object.fromEntries(columns.filter((c) => c.kind === 'declared').map((c) => [c.name, c.type]));
  const select = columns.map((c) => `${valueOf(c)} AS ${quoteIdentifier(c.name)}`).join(', ');
  return `SELECT ${select}\nFROM ${source(path, textStructure(columns.map((c) => c.name), declared))}`;
}
