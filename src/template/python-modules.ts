import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/**
 * dbt's `modules` context (`modules.datetime`, `modules.re`, `modules.itertools`) and the Python
 * helpers dbt puts in every template (`zip`, `namespace`, `tojson`, …), as far as dbt projects
 * use them. Pure functions of their arguments, except `now()`.
 */

/** Keyword arguments arrive as a trailing object marked `__keywords` (nunjucks' convention). */
export function splitKeywords(args: readonly unknown[]): { positional: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: unknown }).__keywords === true) {
    const { __keywords: _k, ...kw } = last as Record<string, unknown>;
    return { positional: args.slice(0, -1), kw };
  }
  return { positional: [...args], kw: {} };
}

// --- re ------------------------------------------------------------------------------------

const IGNORECASE = 2;
const MULTILINE = 8;
const DOTALL = 16;

/** Python's regex syntax as JS reads it: named groups `(?P<n>…)`, `\Z`, inline flags. */
function jsRegex(pattern: unknown, flags: unknown, global: boolean): RegExp {
  if (pattern instanceof PyPattern) return new RegExp(pattern.regex.source, pattern.regex.flags.replace('g', '') + (global ? 'g' : ''));
  let source = String(pattern).replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>').replace(/\\Z/g, '$');
  let f = Number(flags ?? 0);
  const inline = /^\(\?([imsx]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]!.includes('i')) f |= IGNORECASE;
    if (inline[1]!.includes('m')) f |= MULTILINE;
    if (inline[1]!.includes('s')) f |= DOTALL;
  }
  return new RegExp(source, (f & IGNORECASE ? 'i' : '') + (f & MULTILINE ? 'm' : '') + (f & DOTALL ? 's' : '') + (global ? 'g' : '') + 'd');
}

class PyMatch {
  constructor(private readonly m: RegExpExecArray) {}
  group(...n: unknown[]): unknown {
    if (n.length > 1) return n.map((i) => this.one(i));
    return this.one(n[0] ?? 0);
  }
  private one(i: unknown): string | null {
    const v = typeof i === 'string' ? this.m.groups?.[i] : this.m[Number(i)];
    return v ?? null;
  }
  groups(): Array<string | null> {
    return this.m.slice(1).map((v) => v ?? null);
  }
  groupdict(): Record<string, string | null> {
    return Object.fromEntries(Object.entries(this.m.groups ?? {}).map(([k, v]) => [k, v ?? null]));
  }
  start(): number {
    return this.m.index;
  }
  end(): number {
    return this.m.index + this.m[0].length;
  }
}

class PyPattern {
  constructor(readonly regex: RegExp) {}
  search(s: unknown) {
    return re.search(this, s);
  }
  match(s: unknown) {
    return re.match(this, s);
  }
  fullmatch(s: unknown) {
    return re.fullmatch(this, s);
  }
  findall(s: unknown) {
    return re.findall(this, s);
  }
  sub(repl: unknown, s: unknown, count?: unknown) {
    return re.sub(this, repl, s, count);
  }
  split(s: unknown) {
    return re.split(this, s);
  }
}

/** Python's replacement syntax (`\1`, `\g<name>`) as JS reads it (`$1`, `$<name>`). */
function jsReplacement(repl: string): string {
  return repl.replace(/\$/g, '$$$$').replace(/\\g<(\w+)>/g, (_m, g: string) => (/^\d+$/.test(g) ? `$${g}` : `$<${g}>`)).replace(/\\(\d+)/g, '$$$1');
}

const re = {
  IGNORECASE,
  I: IGNORECASE,
  MULTILINE,
  M: MULTILINE,
  DOTALL,
  S: DOTALL,
  compile: (pattern: unknown, flags?: unknown) => new PyPattern(jsRegex(pattern, flags, false)),
  search: (pattern: unknown, s: unknown, flags?: unknown) => {
    const m = jsRegex(pattern, flags, false).exec(String(s));
    return m ? new PyMatch(m) : null;
  },
  match: (pattern: unknown, s: unknown, flags?: unknown) => {
    const m = jsRegex(pattern, flags, false).exec(String(s));
    return m && m.index === 0 ? new PyMatch(m) : null;
  },
  fullmatch: (pattern: unknown, s: unknown, flags?: unknown) => {
    const text = String(s);
    const m = jsRegex(pattern, flags, false).exec(text);
    return m && m.index === 0 && m[0].length === text.length ? new PyMatch(m) : null;
  },
  findall: (pattern: unknown, s: unknown, flags?: unknown) =>
    [...String(s).matchAll(jsRegex(pattern, flags, true))].map((m) => (m.length === 1 ? m[0] : m.length === 2 ? m[1] ?? '' : m.slice(1).map((v) => v ?? ''))),
  sub: (pattern: unknown, repl: unknown, s: unknown, count?: unknown, flags?: unknown) => {
    const n = Number(count ?? 0);
    const regex = jsRegex(pattern, flags, n === 0);
    const replacement = jsReplacement(String(repl));
    if (n === 0) return String(s).replace(regex, replacement);
    let out = String(s);
    for (let i = 0; i < n; i++) out = out.replace(regex, replacement);
    return out;
  },
  split: (pattern: unknown, s: unknown) => String(s).split(jsRegex(pattern, 0, true)),
  escape: (s: unknown) => String(s).replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'),
};

// --- datetime ------------------------------------------------------------------------------

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

class PyTimedelta {
  readonly ms: number;
  constructor(...args: unknown[]) {
    const { positional, kw } = splitKeywords(args);
    const [days = 0, seconds = 0, microseconds = 0, milliseconds = 0, minutes = 0, hours = 0, weeks = 0] = positional.map(Number);
    const n = (k: string, d: number) => Number(kw[k] ?? d);
    this.ms =
      n('days', days) * 864e5 + n('seconds', seconds) * 1e3 + n('microseconds', microseconds) / 1e3 + n('milliseconds', milliseconds) +
      n('minutes', minutes) * 6e4 + n('hours', hours) * 36e5 + n('weeks', weeks) * 6048e5;
  }
  get days(): number {
    return Math.floor(this.ms / 864e5);
  }
  get seconds(): number {
    return Math.floor((this.ms % 864e5) / 1e3);
  }
  total_seconds(): number {
    return this.ms / 1e3;
  }
}

/** A naive (UTC) Python datetime. */
class PyDatetime {
  constructor(readonly d: Date) {}
  get year() {
    return this.d.getUTCFullYear();
  }
  get month() {
    return this.d.getUTCMonth() + 1;
  }
  get day() {
    return this.d.getUTCDate();
  }
  get hour() {
    return this.d.getUTCHours();
  }
  get minute() {
    return this.d.getUTCMinutes();
  }
  get second() {
    return this.d.getUTCSeconds();
  }
  strftime(format: unknown): string {
    const d = this.d;
    const codes: Record<string, string> = {
      Y: String(d.getUTCFullYear()),
      m: pad(d.getUTCMonth() + 1),
      d: pad(d.getUTCDate()),
      H: pad(d.getUTCHours()),
      M: pad(d.getUTCMinutes()),
      S: pad(d.getUTCSeconds()),
      f: pad(d.getUTCMilliseconds() * 1000, 6),
      y: pad(d.getUTCFullYear() % 100),
      j: pad(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 864e5) + 1, 3),
      '%': '%',
    };
    return String(format).replace(/%(.)/g, (m, c: string) => codes[c] ?? m);
  }
  isoformat(sep: unknown = 'T'): string {
    return this.strftime(`%Y-%m-%d${String(sep)}%H:%M:%S`);
  }
  date(): PyDatetime {
    return new PyDatetime(new Date(Date.UTC(this.year, this.month - 1, this.day)));
  }
  replace(...args: unknown[]): PyDatetime {
    const { kw } = splitKeywords(args);
    const get = (k: string, v: number) => Number(kw[k] ?? v);
    return new PyDatetime(new Date(Date.UTC(get('year', this.year), get('month', this.month) - 1, get('day', this.day), get('hour', this.hour), get('minute', this.minute), get('second', this.second))));
  }
  /** `dt + timedelta` is not expressible in the template language; dbt code calls these instead. */
  __add__(t: PyTimedelta): PyDatetime {
    return new PyDatetime(new Date(this.d.getTime() + t.ms));
  }
  __sub__(t: PyTimedelta): PyDatetime {
    return new PyDatetime(new Date(this.d.getTime() - t.ms));
  }
  toString(): string {
    return this.isoformat(' ');
  }
}

function strptime(text: unknown, format: unknown): PyDatetime {
  const fields: Record<string, number> = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0 };
  const order: string[] = [];
  const pattern = String(format).replace(/%(.)|([.*+?^${}()|[\]\\])/g, (_m, c: string | undefined, special: string | undefined) => {
    if (special) return `\\${special}`;
    if (c === '%') return '%';
    order.push(c!);
    return c === 'Y' ? '(\\d{4})' : '(\\d{1,2})';
  });
  const m = new RegExp(`^${pattern}$`).exec(String(text));
  if (!m) throw new Error(`time data '${String(text)}' does not match format '${String(format)}'`);
  order.forEach((c, i) => (fields[c] = Number(m[i + 1])));
  return new PyDatetime(new Date(Date.UTC(fields.Y!, fields.m! - 1, fields.d!, fields.H!, fields.M!, fields.S!)));
}

function datetimeModule(now: () => Date) {
  const datetime = (...args: unknown[]) => {
    const [y, mo = 1, d = 1, h = 0, mi = 0, s = 0] = splitKeywords(args).positional.map(Number);
    return new PyDatetime(new Date(Date.UTC(y!, mo - 1, d, h, mi, s)));
  };
  return {
    datetime: Object.assign(datetime, {
      now: () => new PyDatetime(now()),
      utcnow: () => new PyDatetime(now()),
      strptime,
      fromisoformat: (s: unknown) => new PyDatetime(new Date(`${String(s).replace(' ', 'T')}Z`)),
    }),
    date: Object.assign((y: number, m: number, d: number) => new PyDatetime(new Date(Date.UTC(y, m - 1, d))), {
      today: () => new PyDatetime(now()).date(),
    }),
    timedelta: (...args: unknown[]) => new PyTimedelta(...args),
  };
}

// --- itertools -----------------------------------------------------------------------------

function product(...lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, list) => acc.flatMap((p) => [...list].map((x) => [...p, x])), [[]]);
}

function combinations(list: unknown[], r: number): unknown[][] {
  if (r === 0) return [[]];
  return list.flatMap((x, i) => combinations(list.slice(i + 1), r - 1).map((c) => [x, ...c]));
}

const itertools = {
  chain: (...lists: unknown[][]) => lists.flatMap((l) => [...l]),
  product,
  combinations: (list: unknown[], r: unknown) => combinations([...list], Number(r)),
  permutations: (list: unknown[]) => {
    const perm = (xs: unknown[]): unknown[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x, i) => perm([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p])));
    return perm([...list]);
  },
};

/** dbt's `modules` context value. */
export function pythonModules(now: () => Date) {
  return { datetime: datetimeModule(now), re, itertools };
}

// --- helpers every dbt template sees ---------------------------------------------------------

/** Values as Python's json.dumps writes them (dbt's tojson), keys sorted when asked. */
export function tojson(value: unknown, ...rest: unknown[]): string {
  const { positional, kw } = splitKeywords(rest);
  const sort = Boolean(kw.sort_keys ?? positional[0] ?? false);
  const plain = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(plain);
    if (v && typeof v === 'object' && !(v instanceof String)) {
      const entries = Object.entries(v).filter(([k]) => k !== '__keywords');
      if (sort) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([k, x]) => [k, plain(x)]));
    }
    return v instanceof String ? String(v) : v;
  };
  return JSON.stringify(plain(value) ?? null).replace(/,(?=["[{\d\-tfn])/g, ', ').replace(/":(?=\S)/g, '": ');
}

export function fromjson(text: unknown, fallback: unknown = null): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return fallback;
  }
}

export function toyaml(value: unknown): string {
  return stringifyYaml(value);
}

export function fromyaml(text: unknown, fallback: unknown = null): unknown {
  try {
    return parseYaml(String(text)) as unknown;
  } catch {
    return fallback;
  }
}

export function zip(...lists: unknown[]): unknown[][] {
  const arrays = lists.map((l) => (l == null ? [] : [...(l as Iterable<unknown>)]));
  const n = arrays.length ? Math.min(...arrays.map((a) => a.length)) : 0;
  return Array.from({ length: n }, (_v, i) => arrays.map((a) => a[i]));
}

/** Jinja's namespace(): a mutable object, set with `{% set ns.x = ... %}`. */
export function namespace(...args: unknown[]): Record<string, unknown> {
  const { positional, kw } = splitKeywords(args);
  const first = positional[0];
  return { ...(first && typeof first === 'object' ? (first as Record<string, unknown>) : {}), ...kw };
}

/** `{% set ns.attr = value %}` (see jinja-runtime.ts). */
export function setAttribute(obj: unknown, attr: unknown, value: unknown): string {
  if (!obj || typeof obj !== 'object') throw new Error(`cannot set attribute '${String(attr)}' of ${obj === null || obj === undefined ? 'None' : typeof obj}`);
  (obj as Record<string, unknown>)[String(attr)] = value;
  return '';
}
