/**
 * Which chart a dashboard model gets: time series as lines, rankings as bars, chosen from the
 * result's column types; `meta: { chart: … }` in the model's YAML overrides any part of it.
 */

export type ChartKind = 'line' | 'bar' | 'table';

export interface ChartSpec {
  readonly kind: ChartKind;
  /** The x axis (line) or category (bar) column. */
  readonly x: string | null;
  /** Numeric columns plotted. */
  readonly y: readonly string[];
  /** A low-cardinality text column splitting one y into one line per value. */
  readonly series: string | null;
  readonly title: string | null;
}

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

const unwrap = (type: string): string => type.replace(/^(?:LowCardinality|Nullable)\((.*)\)$/, '$1').replace(/^(?:LowCardinality|Nullable)\((.*)\)$/, '$1');
export const isTimeType = (type: string): boolean => /^(Date|Date32|DateTime|DateTime64)\b/.test(unwrap(type));
export const isNumericType = (type: string): boolean => /^(U?Int\d+|Float\d+|Decimal|BFloat16)/.test(unwrap(type));
export const isTextType = (type: string): boolean => /^(String|FixedString|Enum\d*|UUID|Bool)\b/.test(unwrap(type));
/** Keys and ids are numbers but not measures. */
const isIdLike = (name: string): boolean => /(^id$|_id$|_key$)/i.test(name);

/** ClickHouse-like types guessed from values, for results whose types the server cannot describe. */
export function inferColumns(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): ResultColumn[] {
  const first = rows[0];
  if (!first) return [];
  return Object.keys(first).map((name) => {
    const values = rows.map((r) => r[name]).filter((v) => v !== null && v !== undefined);
    const type = values.every((v) => typeof v === 'number')
      ? 'Float64'
      : values.every((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?/.test(v))
        ? 'DateTime'
        : values.every((v) => typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)))
          ? 'Float64'
          : 'String';
    return { name, type };
  });
}

function overrideOf(meta: unknown): Partial<ChartSpec> {
  if (typeof meta === 'string') return ['line', 'bar', 'table'].includes(meta) ? { kind: meta as ChartKind } : {};
  if (typeof meta !== 'object' || meta === null) return {};
  const m = meta as Record<string, unknown>;
  const out: { -readonly [K in keyof ChartSpec]?: ChartSpec[K] } = {};
  const kind = m.type ?? m.kind;
  if (kind === 'line' || kind === 'bar' || kind === 'table') out.kind = kind;
  if (typeof m.x === 'string') out.x = m.x;
  if (typeof m.y === 'string') out.y = [m.y];
  if (Array.isArray(m.y)) out.y = m.y.map(String);
  if (typeof m.series === 'string') out.series = m.series;
  if (typeof m.title === 'string') out.title = m.title;
  return out;
}

export function chooseChart(columns: readonly ResultColumn[], rows: ReadonlyArray<Readonly<Record<string, unknown>>>, meta?: unknown): ChartSpec {
  const override = overrideOf(meta);
  const time = columns.find((c) => isTimeType(c.type));
  const measures = columns.filter((c) => isNumericType(c.type) && !isIdLike(c.name)).map((c) => c.name);
  const numbers = measures.length ? measures : columns.filter((c) => isNumericType(c.type)).map((c) => c.name);
  const texts = columns.filter((c) => isTextType(c.type));
  let auto: ChartSpec;
  if (time && numbers.length) {
    // One line per value of a small text column (e.g. per genre), otherwise one line per measure.
    const series = texts.find((c) => {
      const distinct = new Set(rows.map((r) => r[c.name]));
      return distinct.size > 1 && distinct.size <= 12;
    });
    auto = { kind: 'line', x: time.name, y: series ? [numbers[0]!] : numbers.slice(0, 6), series: series?.name ?? null, title: null };
  } else if (numbers.length && (texts.length || columns.length > numbers.length)) {
    const label = texts[0]?.name ?? columns.find((c) => !numbers.includes(c.name))!.name;
    auto = { kind: 'bar', x: label, y: numbers.slice(0, 3), series: null, title: null };
  } else {
    auto = { kind: 'table', x: null, y: [], series: null, title: null };
  }
  return { ...auto, ...override };
}
