import type { DdlContext, Relation } from './ddl.js';
import { onCluster, rel } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';
import { isNullable, stampSelect, type FileRead, type LoadStamp, type StagedColumn } from './staging-sql.js';

/**
 * ClickHouse SQL text that reads CSV and JSON-lines files into a raw table's rows and rejects.
 * Pure text, so every statement can be checked without a database. A file is read by ClickHouse
 * (the embedded engine, or for a server the local engine streaming rows to it), except JSON lines
 * bound for a server, which go as bytes that the server checks (`jsonlLinesRead`, tagged pass).
 */

/**
 * A file's records: `select` yields the table's columns, then `__reason` ('' for a good record),
 * `__line` (1-based line where the record starts) and `__raw` (the record's text). `count` is an
 * upper bound of the records (exact for CSV, every line for JSON lines): when the good rows reach
 * it there is no reject to look for, so a clean file is read once.
 */
export interface RecordsRead extends FileRead {
  readonly count: string;
}

/** A file's good records as the rows table's declared columns and `_kiln_line` (the stamp is its defaults). */
export function goodRows(read: RecordsRead, columns: readonly StagedColumn[]): string {
  return `SELECT ${[...columns.map((c) => quoteIdentifier(c.name)), '__line AS _kiln_line'].join(', ')}\nFROM (${read.select})\nWHERE __reason = ''`;
}

/** A file's rejects as quarantine `line, raw, reason` (the rest is the rejects table's defaults). */
export function rejectedRows(read: RecordsRead): string {
  return `SELECT __line AS line, toValidUTF8(__raw) AS raw, __reason AS reason\nFROM (${read.select})\nWHERE __reason != ''`;
}

export const REJECT_COLUMNS = ['line', 'raw', 'reason'] as const;

const STRINGY = /^(Nullable\()?(String|FixedString\(\d+\)|LowCardinality\((Nullable\()?String\)?\))\)?$/;

/**
 * A declared column from text `v` (NULL when the key or field is absent): Strings keep the text
 * (a nested JSON value stays JSON text), other types are cast and a failed cast is a reject.
 */
function typedValue(v: string, type: string, emptyIsNull: boolean): { value: string; bad: string } {
  if (STRINGY.test(type)) {
    return { value: isNullable(type) ? v : `ifNull(${v}, '')`, bad: '0' };
  }
  const present = emptyIsNull ? `(${v} IS NOT NULL AND ${v} != '')` : `${v} IS NOT NULL`;
  const cast = `accurateCastOrNull(${v}, ${quoteString(type.replace(/^Nullable\((.*)\)$/, '$1'))})`;
  const value = isNullable(type) ? `if(${present}, ${cast}, NULL)` : `if(${present}, assumeNotNull(${cast}), defaultValueOfTypeName(${quoteString(type)}))`;
  return { value, bad: `(${present} AND ${cast} IS NULL)` };
}

function reasonOf(checks: ReadonlyArray<readonly [string, string]>): string {
  if (checks.length === 0) return "''";
  return `multiIf(${checks.map(([cond, reason]) => `${cond}, ${reason}`).join(', ')}, '')`;
}

const CAST_SETTINGS = {
  // ISO-8601 with any offset into DateTime, as the reference project's events carry.
  cast_string_to_date_time_mode: 'best_effort',
  date_time_input_format: 'best_effort',
  // Read with pread, not mmap: a mapped file counts in the process's memory.
  storage_file_read_method: 'pread',
} as const;

/**
 * A JSON-lines file: each line is a record. Declared columns are extracted with one JSON parse
 * per line; without them the whole line is the `raw` column. Blank lines are not records.
 */
export function jsonlRead(path: string, columns: readonly StagedColumn[] | null): RecordsRead {
  const lines = `file(${quoteString(path)}, 'LineAsString')`;
  const read = jsonLinesSelect(
    // OR short-circuits: only a line not starting with `{` is trimmed to see whether it is blank.
    { from: `${lines} WHERE startsWith(line, '{') OR notEmpty(trimBoth(line))`, inner: 'line, _row_number', badUtf8: 'NOT isValidUTF8(line)', lineNo: '_row_number + 1' },
    columns,
    CAST_SETTINGS,
  );
  // Every line, blank ones too: ClickHouse counts them without parsing (and caches the count).
  return { ...read, count: `SELECT count() AS n FROM ${lines}` };
}

/** Where the lines come from: a FROM clause yielding `line`, the columns to keep, two expressions over them. */
interface LineSource {
  readonly from: string;
  readonly inner: string;
  readonly badUtf8: string;
  readonly lineNo: string;
}

function jsonLinesSelect(source: LineSource, columns: readonly StagedColumn[] | null, settings: FileRead['settings']): FileRead {
  const line = 'line';
  let values: string[];
  let inner = source.inner;
  // Whether the line is one JSON object. JSONType parses the line again, so it is asked only when
  // the extraction leaves doubt: a line starting with `{` from which a declared key was read did
  // parse (malformed text yields no key at all), and a document starting with `{` is an object.
  let parsedObject = 'false';
  const valueChecks: Array<readonly [string, string]> = [];
  if (columns) {
    const tuple = `Tuple(${columns.map((c) => `${quoteIdentifier(c.name)} Nullable(String)`).join(', ')})`;
    inner += `, JSONExtract(${line}, ${quoteString(tuple)}) AS __v`;
    parsedObject = `(startsWith(${line}, '{') AND (${columns.map((_, i) => `tupleElement(__v, ${i + 1}) IS NOT NULL`).join(' OR ')}))`;
    values = columns.map((c, i) => {
      const t = typedValue(`tupleElement(__v, ${i + 1})`, c.type, false);
      if (t.bad !== '0') valueChecks.push([t.bad, quoteString(`unparseable value for ${c.name} (${c.type})`)]);
      return `${t.value} AS ${quoteIdentifier(c.name)}`;
    });
  } else {
    values = [`${line} AS raw`];
  }
  const checks: Array<readonly [string, string]> = [
    [source.badUtf8, "'invalid UTF-8'"],
    // multiIf and OR short-circuit: only rejects pay for telling malformed text from other JSON.
    [`NOT ${parsedObject} AND JSONType(${line}) != 'Object'`, `if(isValidJSON(${line}), 'not a JSON object', 'malformed JSON')`],
    ...valueChecks,
  ];
  const select = `SELECT ${[...values, `${reasonOf(checks)} AS __reason`, `${source.lineNo} AS __line`, `${line} AS __raw`].join(', ')}
FROM (SELECT ${inner} FROM ${source.from})`;
  return { select, settings: { ...settings } };
}

/**
 * Lines of a JSON-lines file streamed to a server as TabSeparated `(line number, text, bad UTF-8
 * flag)` (see stage/line-rows.ts): the server parses them, not this process.
 */
export function lineColumns(lineType: string): StagedColumn[] {
  return [
    // Typed as the rows table has it: 18.16 converts no types on the way into a view's target.
    { name: '_kiln_line', type: lineType },
    { name: 'raw', type: 'String' },
    { name: '_kiln_bad_utf8', type: 'UInt8' },
  ];
}

/** Declared types the server-side reader without JSON functions can cast (the rest go through the local engine). */
const LITE_CAST: ReadonlyArray<readonly [RegExp, (s: string) => string]> = [
  [STRINGY, (s) => s],
  [/^U?Int(8|16|32|64)$/, (s) => s],
  [/^Float(32|64)$/, (s) => s],
  [/^Date$/, (s) => `toDateOrNull(${s})`],
  [/^DateTime(\('[^']*'\))?$/, (s) => `parseDateTimeBestEffortOrNull(${s})`],
];
const baseType = (type: string) => type.replace(/^Nullable\((.*)\)$/, '$1');

/** Whether `jsonlLinesRead` can read these columns on a server without JSON functions. */
export function liteJsonlColumns(columns: readonly StagedColumn[] | null): boolean {
  return (columns ?? []).every((c) => STRINGY.test(c.type) || LITE_CAST.some(([re]) => re.test(baseType(c.type))));
}

// A JSON object, its structure checked exactly to three levels of nesting (deeper values only for
// balanced quoting): the closest an RE2 regular expression gets to isValidJSON.
const J_WS = '[ \\t\\r]*';
const J_STR = '"(?:[^"\\\\\\x00-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4}))*"';
const J_SCALAR = `${J_STR}|-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null`;
const jObject = (v: string) => `\\{${J_WS}(?:${J_STR}${J_WS}:${J_WS}${v}${J_WS}(?:,${J_WS}${J_STR}${J_WS}:${J_WS}${v}${J_WS})*)?\\}`;
const jArray = (v: string) => `\\[${J_WS}(?:${v}${J_WS}(?:,${J_WS}${v}${J_WS})*)?\\]`;
function jValue(depth: number): string {
  if (depth === 0) return `(?:${J_SCALAR}|[\\[{](?:${J_STR}|[^"])*[\\]}])`;
  const v = jValue(depth - 1);
  return `(?:${J_SCALAR}|${jObject(v)}|${jArray(v)})`;
}
const JSON_OBJECT_RE = `^${J_WS}${jObject(jValue(2))}${J_WS}$`;
const JSON_NON_OBJECT_RE = `^${J_WS}(?:${J_SCALAR}|${jArray(jValue(1))})${J_WS}$`;

/** The SELECTs of the two views that check streamed lines (`lineColumns`) into rows and rejects. */
export interface LinesRead {
  /** Good lines as `target`'s columns (the rows table; a view must give every column, typed as there). */
  rows(target: readonly StagedColumn[], stamp: LoadStamp, file: string): string;
  rejects(stamp: LoadStamp, file: string, source: string, table: string): string;
  readonly settings: Readonly<Record<string, string | number>>;
}

/**
 * Aliases defined where first used within one statement: 18.16 runs a view's SELECT straight on
 * the inserted block, so a view can have no subquery and no column the target lacks.
 * `{__name}` in a definition or template refers to another alias.
 */
class InlineAliases {
  private readonly defined = new Set<string>();

  constructor(private readonly defs: ReadonlyMap<string, string>) {}

  expand(template: string): string {
    return template.replace(/\{(__\w+)\}/g, (_m, name: string) => {
      if (this.defined.has(name)) return name;
      this.defined.add(name);
      return `(${this.expand(this.defs.get(name)!)} AS ${name})`;
    });
  }
}

/**
 * A JSON-lines file's lines, streamed into `lines`, checked as `jsonlRead` checks a file. With
 * JSON functions the checks are the same; without them (18.16) the server checks: the line is a
 * JSON object (exact to three levels of nesting), each declared key's value (`visitParamExtractRaw`:
 * the first `"key":` at any depth, so a nested key of the same name earlier in the line wins, and
 * `"key" :` with a space before the colon reads as absent) casts to its type with `to<Type>OrNull`,
 * and integers round-trip (no silent wrap-around).
 */
export function jsonlLinesRead(lines: Relation, columns: readonly StagedColumn[] | null, jsonFunctions: boolean): LinesRead {
  const staged = columns ?? [{ name: 'raw', type: 'String' }];
  const cols = staged.map((c) => quoteIdentifier(c.name));
  if (jsonFunctions) {
    const { storage_file_read_method: _file, ...settings } = CAST_SETTINGS;
    const from = `(SELECT raw AS line, _kiln_line, _kiln_bad_utf8 FROM ${rel(lines)})`;
    const read = jsonLinesSelect({ from, inner: 'line, _kiln_line, _kiln_bad_utf8', badUtf8: '_kiln_bad_utf8 = 1', lineNo: '_kiln_line' }, columns, settings);
    return {
      settings: read.settings,
      rows: (target, stamp, file) => `SELECT ${[...cols, ...stampSelect(target, stamp, file), '__line AS _kiln_line'].join(', ')}\nFROM (${read.select}) WHERE __reason = ''`,
      rejects: (stamp, file, source, table) =>
        `SELECT ${quoteString(source)} AS source_name, ${quoteString(table)} AS table_name, ${quoteString(file)} AS file, toUInt64(__line) AS line, __raw AS raw, __reason AS reason, ${rejectStamp(stamp)}\nFROM (${read.select}) WHERE __reason != ''`,
    };
  }
  const defs = new Map<string, string>();
  const checks: Array<readonly [string, string]> = [
    ['_kiln_bad_utf8 = 1', "'invalid UTF-8'"],
    [`NOT match(raw, ${quoteString(JSON_OBJECT_RE)})`, `if(match(raw, ${quoteString(JSON_NON_OBJECT_RE)}), 'not a JSON object', 'malformed JSON')`],
  ];
  const values = staged.map((c, i) => {
    if (!columns) return 'raw';
    const [r, t, p] = [`__r${i}`, `__t${i}`, `__p${i}`];
    // The value's text: NULL when absent or null, a string unescaped, anything else as JSON text.
    defs.set(r, `replaceRegexpAll(visitParamExtractRaw(raw, ${quoteString(c.name)}), '^[ \\\\t\\\\r]+|[ \\\\t\\\\r]+$', '')`);
    defs.set(t, `multiIf({${r}} = '' OR {${r}} = 'null', CAST(NULL AS Nullable(String)), startsWith({${r}}, '"'), visitParamExtractString(concat('{"v":', {${r}}, '}'), 'v'), {${r}})`);
    const out = quoteIdentifier(c.name);
    if (STRINGY.test(c.type)) return `${isNullable(c.type) ? `{${t}}` : `ifNull({${t}}, '')`} AS ${out}`;
    const base = baseType(c.type);
    const int = /Int/.test(base);
    defs.set(p, int || /^Float/.test(base) ? `to${base}OrNull({${t}})` : LITE_CAST.find(([re]) => re.test(base))![1](`{${t}}`));
    const bad = int ? `({${t}} IS NOT NULL AND ({${p}} IS NULL OR toString({${p}}) != {${t}}))` : `({${t}} IS NOT NULL AND {${p}} IS NULL)`;
    checks.push([bad, quoteString(`unparseable value for ${c.name} (${c.type})`)]);
    return `${isNullable(c.type) ? `CAST({${p}} AS ${c.type})` : `CAST(ifNull({${p}}, CAST(0 AS ${base})) AS ${base})`} AS ${out}`;
  });
  const reason = reasonOf(checks);
  return {
    settings: {},
    rows(target, stamp, file) {
      const scope = new InlineAliases(defs);
      const list = [...values, ...stampSelect(target, stamp, file), '_kiln_line'].map((v) => scope.expand(v));
      return `SELECT ${list.join(', ')}\nFROM ${rel(lines)} WHERE ${scope.expand(reason)} = ''`;
    },
    rejects(stamp, file, source, table) {
      const scope = new InlineAliases(defs);
      return `SELECT ${quoteString(source)} AS source_name, ${quoteString(table)} AS table_name, ${quoteString(file)} AS file, toUInt64(_kiln_line) AS line, raw, ${scope.expand(reason)} AS reason, ${rejectStamp(stamp)}\nFROM ${rel(lines)} WHERE reason != ''`;
    },
  };
}

/** A quarantine row's load columns (plain types there, so no cast). */
const rejectStamp = (stamp: LoadStamp) => `${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at`;

/**
 * Pass one of a JSON-lines file on a server: its lines, tagged with their line numbers, read by the
 * server's JSONEachRow straight into the rows table (the stamp is its defaults). A record the
 * reader rejects is skipped (the allowed errors), found missing afterwards, and read again by
 * `jsonlLinesRead`. Narrow integers would wrap around silently, so a table that has them is read
 * into an intake table (Null engine) as Int64, and a view keeps the values in range.
 */
export const TAGGED_JSON_SETTINGS = {
  input_format_allow_errors_num: 1_000_000_000_000,
  input_format_allow_errors_ratio: 1,
  input_format_skip_unknown_fields: 1,
  date_time_input_format: 'best_effort',
} as const;

const INT_RANGE: Readonly<Record<string, readonly [string, string]>> = {
  Int8: ['-128', '127'],
  Int16: ['-32768', '32767'],
  Int32: ['-2147483648', '2147483647'],
  UInt8: ['0', '255'],
  UInt16: ['0', '65535'],
  UInt32: ['0', '4294967295'],
};

/** Whether pass one needs the intake table and its range-checking view. */
export function hasNarrowInts(columns: readonly StagedColumn[]): boolean {
  return columns.some((c) => INT_RANGE[baseType(c.type)] !== undefined);
}

export function taggedIntakeColumns(columns: readonly StagedColumn[], lineType: string): StagedColumn[] {
  const wide = columns.map((c) => (INT_RANGE[baseType(c.type)] ? { name: c.name, type: isNullable(c.type) ? 'Nullable(Int64)' : 'Int64' } : c));
  return [...wide, { name: '_kiln_line', type: lineType }];
}

/** Tagged records that parsed and are in range, with the load's metadata, into the rows table (`target`: its columns). */
export function routeTaggedRows(ctx: DdlContext, view: Relation, intake: Relation, to: Relation, target: readonly StagedColumn[], columns: readonly StagedColumn[], stamp: LoadStamp, file: string): string {
  const inRange = columns.flatMap((c) => {
    const range = INT_RANGE[baseType(c.type)];
    const q = quoteIdentifier(c.name);
    return range ? [`(${q} IS NULL OR (${q} >= ${range[0]} AND ${q} <= ${range[1]}))`] : [];
  });
  const values = columns.map((c) => (INT_RANGE[baseType(c.type)] ? `CAST(${quoteIdentifier(c.name)} AS ${c.type}) AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name)));
  // Strays (line 0, whatever their values) land here too, for lineCounts to see.
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}
AS SELECT ${[...values, ...stampSelect(target, stamp, file), '_kiln_line'].join(', ')}
FROM ${rel(intake)}${inRange.length > 0 ? ` WHERE _kiln_line = 0 OR (${inRange.join(' AND ')})` : ''}`;
}

/**
 * Rows and strays of pass one. A line holding two objects (`{…}{…}`) reads as two records, the
 * first without a line number (a stray; the tag goes last): pass one cannot tell lines apart, the file is read again
 * whole. A line cannot claim another's number: lines naming `_kiln_line` themselves are never
 * tagged (stage/line-rows.ts), so each tag is read at most once.
 */
export function lineCounts(rows: Relation): string {
  return `SELECT count() AS n, countIf(_kiln_line = 0) AS strays FROM ${rel(rows)}`;
}

/** Lines 1…lastLine missing from `rows`, as gaps `[after, before]` (see stage/line-rows.ts). */
export function lineGaps(rows: Relation, lastLine: number): string {
  const end = `toUInt64(${Math.trunc(lastLine) + 1})`;
  return `SELECT arrayFilter(g -> g.2 - g.1 > 1, arrayMap((a, b) -> (a, b), arrayPushFront(l, toUInt64(0)), arrayPushBack(l, ${end}))) AS gaps
FROM (SELECT arraySort(groupArray(_kiln_line)) AS l FROM ${rel(rows)})`;
}

/** Pass two: views that check streamed lines into rows (`target`: its columns) and rejects. */
export function routeLineRows(ctx: DdlContext, view: Relation, to: Relation, target: readonly StagedColumn[], read: LinesRead, stamp: LoadStamp, file: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}\nAS ${read.rows(target, stamp, file)}`;
}

export function routeLineRejects(ctx: DdlContext, view: Relation, to: Relation, read: LinesRead, stamp: LoadStamp, file: string, source: string, table: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}\nAS ${read.rejects(stamp, file, source, table)}`;
}

export interface CsvShape {
  /** Header names in file order. */
  readonly header: readonly string[];
  readonly delimiter: string;
  /** The table's columns; header names missing here are an error before reading. */
  readonly columns: readonly StagedColumn[];
  /**
   * Records spanning several lines, `[row index, extra newlines]` sorted by row, so each record's
   * starting line can be computed. Empty in the common case.
   */
  readonly multiline: ReadonlyArray<readonly [number, number]>;
}

/** A marker no CSV export contains, so `\N` and empty fields stay text and only missing fields are NULL. */
const CSV_NULL = '\u0001kiln-missing\u0001';

function csvFields(n: number): string {
  return Array.from({ length: n + 1 }, (_, i) => `f${i + 1} Nullable(String)`).join(', ');
}

function csvSettings(delimiter: string): Record<string, string | number> {
  return {
    ...CAST_SETTINGS,
    input_format_csv_allow_variable_number_of_columns: 1,
    input_format_csv_empty_as_default: 0,
    input_format_csv_skip_first_lines: 1,
    format_csv_null_representation: CSV_NULL,
    format_csv_delimiter: delimiter,
  };
}

const csvSource = (path: string, n: number) => `file(${quoteString(path)}, 'CSV', ${quoteString(csvFields(n))})`;
const csvAll = (n: number) => Array.from({ length: n + 1 }, (_, i) => `f${i + 1}`);

/** Records whose fields hold newlines (their line count shifts every later record's line). */
export function csvMultiline(path: string, n: number, delimiter: string): FileRead {
  const nl = `countSubstrings(arrayStringConcat(arrayFilter(x -> x IS NOT NULL, [${csvAll(n).join(', ')}])), '\\n')`;
  return {
    select: `SELECT _row_number AS r, ${nl} AS nl FROM ${csvSource(path, n)} WHERE nl > 0 ORDER BY r`,
    settings: csvSettings(delimiter),
  };
}

/** A CSV file read as text fields, one more than the header so extra fields are seen. */
export function csvRead(path: string, shape: CsvShape): RecordsRead {
  const n = shape.header.length;
  const all = csvAll(n);
  const checks: Array<readonly [string, string]> = [
    [`f${n} IS NULL OR f${n + 1} IS NOT NULL`, `'wrong column count (expected ${n})'`],
    [`NOT isValidUTF8(__raw)`, "'invalid UTF-8'"],
  ];
  const values = shape.columns.map((c) => {
    const i = shape.header.indexOf(c.name);
    if (i < 0) return `defaultValueOfTypeName(${quoteString(c.type)}) AS ${quoteIdentifier(c.name)}`;
    const t = typedValue(`f${i + 1}`, c.type, true);
    if (t.bad !== '0') checks.push([t.bad, quoteString(`unparseable value for ${c.name} (${c.type})`)]);
    return `${t.value} AS ${quoteIdentifier(c.name)}`;
  });
  const rows = shape.multiline.map(([r]) => r);
  const before = shape.multiline.reduce<number[]>((acc, [, nl]) => [...acc, (acc[acc.length - 1] ?? 0) + nl], []);
  // Line = header + 1-based record index + newlines inside the records before it.
  const shift = rows.length === 0 ? '0' : `arrayElement([0, ${before.join(', ')}], arrayCount(x -> x < _row_number, [${rows.join(', ')}]) + 1)`;
  const raw = `arrayStringConcat(arrayFilter(x -> x IS NOT NULL, [${all.join(', ')}]), ${quoteString(shape.delimiter)})`;
  const select = `SELECT ${[...values, `${reasonOf(checks)} AS __reason`, `_row_number + 2 + ${shift} AS __line`, '__raw'].join(', ')}
FROM (SELECT *, _row_number, ${raw} AS __raw FROM ${csvSource(path, n)})`;
  return { select, settings: csvSettings(shape.delimiter), count: `SELECT count() AS n FROM ${csvSource(path, n)}` };
}

