import type { DdlContext, Relation } from './ddl.js';
import { rel } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * ClickHouse SQL text for staging: the raw, ledger and quarantine tables, and the SELECTs that
 * read a file or a MySQL table and split its records into loadable rows and rejects. Pure text,
 * so every statement can be checked without a database. The same SELECT runs in the embedded
 * engine (INSERT … SELECT) and, for a server target, in the local engine streaming to the server;
 * JSON lines go to a server as bytes instead and the server checks them (`jsonlLinesRead`).
 */

export interface StagedColumn {
  readonly name: string;
  readonly type: string;
}

/** Values stamped on every row of one load. */
export interface LoadStamp {
  readonly loadId: string;
  /** `YYYY-MM-DD hh:mm:ss` in UTC. */
  readonly loadedAt: string;
}

export const META_COLUMNS: readonly StagedColumn[] = [
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
];
export const FILE_META_COLUMNS: readonly StagedColumn[] = [
  ...META_COLUMNS,
  { name: '_kiln_file', type: 'String' },
  { name: '_kiln_line', type: 'UInt64' },
];

export const QUARANTINE_TABLE = '_kiln_quarantine';
export const LEDGER_TABLE = '_kiln_ledger';

export const QUARANTINE_COLUMNS: readonly StagedColumn[] = [
  { name: 'source_name', type: 'String' },
  { name: 'table_name', type: 'String' },
  { name: 'file', type: 'String' },
  { name: 'line', type: 'UInt64' },
  { name: 'raw', type: 'String' },
  { name: 'reason', type: 'String' },
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
];

export const LEDGER_COLUMNS: readonly StagedColumn[] = [
  { name: 'source_name', type: 'String' },
  { name: 'table_name', type: 'String' },
  { name: 'file', type: 'String' },
  { name: 'size', type: 'UInt64' },
  { name: 'fingerprint', type: 'String' },
  { name: 'rows', type: 'UInt64' },
  { name: 'rejected', type: 'UInt64' },
  /** `started` before rows are written, `loaded` after: a `started` left alone means a killed load. */
  { name: 'status', type: 'String' },
  { name: '_kiln_load_id', type: 'String' },
  { name: '_kiln_loaded_at', type: "DateTime('UTC')" },
  /** Orders entries written within the same second. */
  { name: 'seq', type: 'UInt64' },
];

const onCluster = (ctx: DdlContext) => (ctx.cluster ? ` ON CLUSTER ${quoteIdentifier(ctx.cluster)}` : '');
const columnList = (cols: readonly StagedColumn[]) => cols.map((c) => `  ${quoteIdentifier(c.name)} ${c.type}`).join(',\n');

export function createStagingTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[], ifNotExists = true): string {
  return `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${rel(table)}${onCluster(ctx)}\n(\n${columnList(columns)}\n)\nENGINE = MergeTree()\nORDER BY tuple()`;
}

/** Deletes rows: a lightweight DELETE where the server has one, else a mutation (wait for it). */
export function deleteRows(ctx: DdlContext, table: Relation, where: string): string {
  return ctx.capabilities.lightweightDelete
    ? `DELETE FROM ${rel(table)}${onCluster(ctx)} WHERE ${where}`
    : `ALTER TABLE ${rel(table)}${onCluster(ctx)} DELETE WHERE ${where}`;
}

export function pendingMutations(table: Relation): string {
  return `SELECT count() AS n FROM system.mutations WHERE database = ${quoteString(table.database)} AND table = ${quoteString(table.name)} AND is_done = 0`;
}

export function equals(column: string, value: string): string {
  return `${quoteIdentifier(column)} = ${quoteString(value)}`;
}

/** Latest ledger entry per file of one source table. */
export function ledgerState(ledger: Relation, source: string, table: string): string {
  return `SELECT file, argMax(fingerprint, seq) AS fingerprint, argMax(status, seq) AS status, argMax(size, seq) AS size
FROM ${rel(ledger)}
WHERE source_name = ${quoteString(source)} AND table_name = ${quoteString(table)}
GROUP BY file`;
}

/** The last successful load of each table (freshness falls back to it without loaded_at_field). */
export function lastLoadedAt(ledger: Relation, source: string, table: string): string {
  return `SELECT toUnixTimestamp(max(_kiln_loaded_at)) AS t FROM ${rel(ledger)}
WHERE source_name = ${quoteString(source)} AND table_name = ${quoteString(table)} AND status = 'loaded'`;
}

export function maxOf(table: Relation, expr: string): string {
  return `SELECT toUnixTimestamp(max(${expr})) AS t, count() AS n FROM ${rel(table)}`;
}

// ---------------------------------------------------------------------------------------------
// Reading files. Every reader yields the same shape: the table's columns, then a `__reason`
// ('' for a good record), `__line` (1-based line where the record starts) and `__raw` (the
// record's text for the quarantine). `loadRows`/`rejectRows` wrap it for the two destinations.

export interface FileRead {
  /** SELECT producing columns…, __reason, __line, __raw. */
  readonly select: string;
  readonly settings: Readonly<Record<string, string | number>>;
}

const STRINGY = /^(Nullable\()?(String|FixedString\(\d+\)|LowCardinality\((Nullable\()?String\)?\))\)?$/;
const isNullable = (type: string) => /^Nullable\(/.test(type) || /^LowCardinality\(Nullable\(/.test(type);

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
export function jsonlRead(path: string, columns: readonly StagedColumn[] | null): FileRead {
  return jsonLinesSelect(
    { from: `file(${quoteString(path)}, 'LineAsString') WHERE notEmpty(trimBoth(line))`, inner: 'line, _row_number', badUtf8: 'NOT isValidUTF8(line)', lineNo: '_row_number + 1' },
    columns,
    CAST_SETTINGS,
  );
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
  const checks: Array<readonly [string, string]> = [
    [source.badUtf8, "'invalid UTF-8'"],
    // One parse for good lines: JSONType is 'Null' for malformed text too; multiIf short-circuits,
    // so only rejects pay for telling the two apart.
    [`JSONType(${line}) != 'Object'`, `if(isValidJSON(${line}), 'not a JSON object', 'malformed JSON')`],
  ];
  let values: string[];
  let inner = source.inner;
  if (columns) {
    const tuple = `Tuple(${columns.map((c) => `${quoteIdentifier(c.name)} Nullable(String)`).join(', ')})`;
    inner += `, JSONExtract(${line}, ${quoteString(tuple)}) AS __v`;
    values = columns.map((c, i) => {
      const t = typedValue(`tupleElement(__v, ${i + 1})`, c.type, false);
      if (t.bad !== '0') checks.push([t.bad, quoteString(`unparseable value for ${c.name} (${c.type})`)]);
      return `${t.value} AS ${quoteIdentifier(c.name)}`;
    });
  } else {
    values = [`${line} AS raw`];
  }
  const select = `SELECT ${[...values, `${reasonOf(checks)} AS __reason`, `${source.lineNo} AS __line`, `${line} AS __raw`].join(', ')}
FROM (SELECT ${inner} FROM ${source.from})`;
  return { select, settings: { ...settings } };
}

/**
 * Lines of a JSON-lines file streamed to a server as TabSeparated `(line number, text, bad UTF-8
 * flag)` (see stage/line-rows.ts): the server parses them, not this process.
 */
export const LINE_COLUMNS: readonly StagedColumn[] = [
  { name: '_kiln_line', type: 'UInt64' },
  { name: 'raw', type: 'String' },
  { name: '_kiln_bad_utf8', type: 'UInt8' },
];

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

/** The SELECTs of the two views that check streamed lines (LINE_COLUMNS) into rows and rejects. */
export interface LinesRead {
  rows(stamp: LoadStamp, file: string): string;
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
      rows: (stamp, file) => `SELECT ${[...cols, ...stampColumns(stamp, file), '__line AS _kiln_line'].join(', ')}\nFROM (${read.select}) WHERE __reason = ''`,
      rejects: (stamp, file, source, table) =>
        `SELECT ${quoteString(source)} AS source_name, ${quoteString(table)} AS table_name, ${quoteString(file)} AS file, __line AS line, __raw AS raw, __reason AS reason, ${stampColumns(stamp, file).slice(0, 2).join(', ')}\nFROM (${read.select}) WHERE __reason != ''`,
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
    rows(stamp, file) {
      const scope = new InlineAliases(defs);
      const list = [...values, ...stampColumns(stamp, file), '_kiln_line'].map((v) => scope.expand(v));
      return `SELECT ${list.join(', ')}\nFROM ${rel(lines)} WHERE ${scope.expand(reason)} = ''`;
    },
    rejects(stamp, file, source, table) {
      const scope = new InlineAliases(defs);
      return `SELECT ${quoteString(source)} AS source_name, ${quoteString(table)} AS table_name, ${quoteString(file)} AS file, _kiln_line AS line, raw, ${scope.expand(reason)} AS reason, ${stampColumns(stamp, file).slice(0, 2).join(', ')}\nFROM ${rel(lines)} WHERE reason != ''`;
    },
  };
}

/**
 * Pass one of a JSON-lines file on a server: its lines, tagged with their line numbers, read by the
 * server's JSONEachRow into an intake table (Null engine) whose views stamp and route them. A
 * record the reader rejects is skipped (the allowed errors), found missing afterwards, and read
 * again by `jsonlLinesRead`. Narrow integers arrive as Int64 so a value out of range is missing
 * too, not wrapped around.
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

export function taggedIntakeColumns(columns: readonly StagedColumn[]): StagedColumn[] {
  const wide = columns.map((c) => (INT_RANGE[baseType(c.type)] ? { name: c.name, type: isNullable(c.type) ? 'Nullable(Int64)' : 'Int64' } : c));
  return [...wide, { name: '_kiln_line', type: 'UInt64' }];
}

/** Tagged records that parsed, with the load's metadata, into the rows table. */
export function routeTaggedRows(ctx: DdlContext, view: Relation, intake: Relation, to: Relation, columns: readonly StagedColumn[], stamp: LoadStamp, file: string): string {
  const inRange = columns.flatMap((c) => {
    const range = INT_RANGE[baseType(c.type)];
    const q = quoteIdentifier(c.name);
    return range ? [`(${q} IS NULL OR (${q} >= ${range[0]} AND ${q} <= ${range[1]}))`] : [];
  });
  const values = columns.map((c) => (INT_RANGE[baseType(c.type)] ? `CAST(${quoteIdentifier(c.name)} AS ${c.type}) AS ${quoteIdentifier(c.name)}` : quoteIdentifier(c.name)));
  // Strays (line 0, whatever their values) land here too, for lineCounts to see.
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}
AS SELECT ${[...values, ...stampColumns(stamp, file), '_kiln_line'].join(', ')}
FROM ${rel(intake)}${inRange.length > 0 ? ` WHERE _kiln_line = 0 OR (${inRange.join(' AND ')})` : ''}`;
}

/**
 * Rows, distinct line numbers and strays of pass one. A line holding two objects (`{…}{…}`) reads as
 * two records, the second without a line number (a stray); a line repeating the `_kiln_line` key
 * could claim another's number. Either way pass one cannot tell lines apart: the file is read again whole.
 */
export function lineCounts(rows: Relation): string {
  return `SELECT count() AS n, uniqExact(_kiln_line) AS lines, countIf(_kiln_line = 0) AS strays FROM ${rel(rows)}`;
}

/** Lines 1…lastLine missing from `rows`, as gaps `[after, before]` (see stage/line-rows.ts). */
export function lineGaps(rows: Relation, lastLine: number): string {
  const end = `toUInt64(${Math.trunc(lastLine) + 1})`;
  return `SELECT arrayFilter(g -> g.2 - g.1 > 1, arrayMap((a, b) -> (a, b), arrayPushFront(l, toUInt64(0)), arrayPushBack(l, ${end}))) AS gaps
FROM (SELECT arraySort(groupArray(_kiln_line)) AS l FROM ${rel(rows)})`;
}

/** Pass two: views that check streamed lines into rows and rejects. */
export function routeLineRows(ctx: DdlContext, view: Relation, to: Relation, read: LinesRead, stamp: LoadStamp, file: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}\nAS ${read.rows(stamp, file)}`;
}

export function routeLineRejects(ctx: DdlContext, view: Relation, to: Relation, read: LinesRead, stamp: LoadStamp, file: string, source: string, table: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}\nAS ${read.rejects(stamp, file, source, table)}`;
}

const stampColumns = (stamp: LoadStamp, file: string) => [
  `${quoteString(stamp.loadId)} AS _kiln_load_id`,
  `toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at`,
  `${quoteString(file)} AS _kiln_file`,
];

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
export function csvRead(path: string, shape: CsvShape): FileRead {
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
  return { select, settings: csvSettings(shape.delimiter) };
}

/**
 * One load's records streamed into an intake table (Null engine) in a single pass; two
 * materialized views route them: good records to the rows table, rejects to the rejects table.
 */
export const INTAKE_EXTRA: readonly StagedColumn[] = [
  { name: '__reason', type: 'String' },
  { name: '__raw', type: 'String' },
];

export function intakeSelect(read: FileRead, columns: readonly StagedColumn[], stamp: LoadStamp, file: string): string {
  const cols = columns.map((c) => quoteIdentifier(c.name)).join(', ');
  // Rejects carry their text; good records carry none, so a server receives each line once.
  return `SELECT ${cols}, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at, ${quoteString(file)} AS _kiln_file, __line AS _kiln_line, __reason, if(__reason = '', '', toValidUTF8(__raw)) AS __raw
FROM (${read.select})`;
}

export function createNullTable(ctx: DdlContext, table: Relation, columns: readonly StagedColumn[]): string {
  return `CREATE TABLE ${rel(table)}${onCluster(ctx)}\n(\n${columnList(columns)}\n)\nENGINE = Null`;
}

export function routeRows(ctx: DdlContext, view: Relation, intake: Relation, to: Relation, columns: readonly StagedColumn[]): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}
AS SELECT ${columns.map((c) => quoteIdentifier(c.name)).join(', ')} FROM ${rel(intake)} WHERE __reason = ''`;
}

export function routeRejects(ctx: DdlContext, view: Relation, intake: Relation, to: Relation, source: string, table: string): string {
  return `CREATE MATERIALIZED VIEW ${rel(view)}${onCluster(ctx)} TO ${rel(to)}
AS SELECT ${quoteString(source)} AS source_name, ${quoteString(table)} AS table_name, _kiln_file AS file, _kiln_line AS line, __raw AS raw, __reason AS reason, _kiln_load_id, _kiln_loaded_at
FROM ${rel(intake)} WHERE __reason != ''`;
}

/** Moves a fully loaded file's rows into the raw table in one step (parts are linked, not copied). */
export function attachAllFrom(ctx: DdlContext, target: Relation, from: Relation): string {
  return `ALTER TABLE ${rel(target)}${onCluster(ctx)} ATTACH PARTITION tuple() FROM ${rel(from)}`;
}

export function truncate(ctx: DdlContext, table: Relation): string {
  return `TRUNCATE TABLE ${rel(table)}${onCluster(ctx)}`;
}

export function copyAll(target: Relation, from: Relation): string {
  return `INSERT INTO ${rel(target)} SELECT * FROM ${rel(from)}`;
}

// ---------------------------------------------------------------------------------------------
// MySQL.

export interface MySqlConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

export function mysqlTable(conn: MySqlConnection, table: string): string {
  return `mysql(${quoteString(`${conn.host}:${conn.port}`)}, ${quoteString(conn.database)}, ${quoteString(table)}, ${quoteString(conn.user)}, ${quoteString(conn.password)})`;
}

export function mysqlTableNames(conn: MySqlConnection): string {
  const info = mysqlTable({ ...conn, database: 'information_schema' }, 'TABLES');
  return `SELECT TABLE_NAME AS name FROM ${info} WHERE TABLE_SCHEMA = ${quoteString(conn.database)} ORDER BY name`;
}

/** Rows of a live MySQL table with the load's metadata; `after` keeps only keys past a value. */
export function mysqlSelect(conn: MySqlConnection, table: string, stamp: LoadStamp, incremental?: { key: string; after: string | null }): string {
  const where = incremental?.after != null ? `\nWHERE ${quoteIdentifier(incremental.key)} > ${incremental.after}` : '';
  // Key order, so a load cut short leaves a prefix and the next run continues after its maximum.
  const order = incremental ? `\nORDER BY ${quoteIdentifier(incremental.key)}` : '';
  return `SELECT *, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM ${mysqlTable(conn, table)}${where}${order}`;
}

const DATE_TYPE = /^(Nullable\()?(Date|Date32|DateTime|DateTime64\(\d+\)|DateTime\('[^']*'\))\)?$/;

/**
 * Structure for reading one table of a dump. Dates are read as text: ClickHouse would turn a MySQL
 * zero date into a real-looking one, so `dumpSelect` maps zero and impossible dates to the epoch as `mysql()` does.
 */
export function dumpStructure(columns: readonly StagedColumn[]): string {
  return columns.map((c) => `${quoteIdentifier(c.name)} ${DATE_TYPE.test(c.type) ? (isNullable(c.type) ? 'Nullable(String)' : 'String') : c.type}`).join(', ');
}

export function dumpSelect(path: string, table: string, columns: readonly StagedColumn[], stamp: LoadStamp): FileRead {
  const values = columns.map((c) => {
    const q = quoteIdentifier(c.name);
    if (!DATE_TYPE.test(c.type)) return q;
    // Zero dates and dates MySQL keeps under ALLOW_INVALID_DATES (2024-02-30) have no ClickHouse
    // value: they become the epoch, as mysql() makes them; NULL stays NULL.
    const base = c.type.replace(/^Nullable\((.*)\)$/, '$1');
    // Checked first: ClickHouse reads 0000-00-00 as a real-looking date, and MySQL allows zero parts.
    const zero = `match(${q}, '^0000|^\\\\d{4}-00|^\\\\d{4}-\\\\d{2}-00')`;
    const parsed = `if(${zero}, CAST(0 AS ${base}), ifNull(accurateCastOrNull(${q}, ${quoteString(base)}), CAST(0 AS ${base})))`;
    return isNullable(c.type) ? `if(isNull(${q}), NULL, ${parsed}) AS ${q}` : `${parsed} AS ${q}`;
  });
  return {
    select: `SELECT ${values.join(', ')}, ${quoteString(stamp.loadId)} AS _kiln_load_id, toDateTime(${quoteString(stamp.loadedAt)}, 'UTC') AS _kiln_loaded_at
FROM file(${quoteString(path)}, 'MySQLDump', ${quoteString(dumpStructure(columns))})`,
    settings: dumpSettings(table),
  };
}

export function dumpSettings(table: string): Record<string, string | number> {
  return {
    input_format_mysql_dump_table_name: table,
    input_format_mysql_dump_map_column_names: 1,
    storage_file_read_method: 'pread',
  };
}

/** Names of the tables a dump creates (for "not in the dump" errors). */
export function dumpTableNames(path: string): string {
  return `SELECT DISTINCT extract(line, '^CREATE TABLE \`([^\`]+)\`') AS name FROM file(${quoteString(path)}, 'LineAsString')
WHERE startsWith(line, 'CREATE TABLE') ORDER BY name SETTINGS storage_file_read_method = 'pread'`;
}

export function describeDumpTable(path: string): string {
  return `DESCRIBE file(${quoteString(path)}, 'MySQLDump')`;
}

export interface LedgerRow {
  readonly source_name: string;
  readonly table_name: string;
  readonly file: string;
  readonly size: number;
  readonly fingerprint: string;
  readonly rows: number;
  readonly rejected: number;
  readonly status: 'started' | 'loaded';
}

export function insertLedger(ledger: Relation, row: LedgerRow, stamp: LoadStamp, seq: number): string {
  const values = [
    quoteString(row.source_name),
    quoteString(row.table_name),
    quoteString(row.file),
    String(Math.trunc(row.size)),
    quoteString(row.fingerprint),
    String(Math.trunc(row.rows)),
    String(Math.trunc(row.rejected)),
    quoteString(row.status),
    quoteString(stamp.loadId),
    `toDateTime(${quoteString(stamp.loadedAt)}, 'UTC')`,
    String(Math.trunc(seq)),
  ];
  return `INSERT INTO ${rel(ledger)} (${LEDGER_COLUMNS.map((c) => quoteIdentifier(c.name)).join(', ')}) SELECT ${values.join(', ')}`;
}

export function sourceTableIs(source: string, table: string): string {
  return `source_name = ${quoteString(source)} AND table_name = ${quoteString(table)}`;
}

/** No rows, but fails like a real read would: checks a live MySQL table is reachable and exists. */
export function mysqlProbe(conn: MySqlConnection, table: string): string {
  return `SELECT * FROM ${mysqlTable(conn, table)} LIMIT 0`;
}

/** The highest incremental key already staged (as text, for a literal) and the row count. */
export function maxKeyAndCount(target: Relation, key: string): string {
  return `SELECT toString(max(${quoteIdentifier(key)})) AS m, count() AS n FROM ${rel(target)}`;
}
