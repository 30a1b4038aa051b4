import nunjucks from 'nunjucks';

/**
 * dbt projects call Python's str/dict/list methods in templates (`x.upper()`, `d.items()`).
 * nunjucks ships dict/list methods behind installJinjaCompat(); string methods are added here.
 * Both patch nunjucks' runtime once per process: configuration, not per-render state.
 */
const STRING_METHODS: Record<string, (s: string, ...args: never[]) => unknown> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  strip: (s, chars?: string) => (chars ? trimChars(s, chars, true, true) : s.trim()),
  lstrip: (s, chars?: string) => (chars ? trimChars(s, chars, true, false) : s.trimStart()),
  rstrip: (s, chars?: string) => (chars ? trimChars(s, chars, false, true) : s.trimEnd()),
  split: (s, sep?: string, max?: number) => pySplit(s, sep, max),
  startswith: (s, prefix: string) => s.startsWith(prefix),
  endswith: (s, suffix: string) => s.endsWith(suffix),
  replace: (s, from: string, to: string) => s.split(from).join(to),
  title: (s) => s.replace(/\w\S*/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase()),
  capitalize: (s) => (s ? s[0]!.toUpperCase() + s.slice(1).toLowerCase() : s),
  join: (s, items: unknown[]) => [...items].map(String).join(s),
  format: (s, ...args: never[]) => pyFormat(s, args),
  find: (s, sub: string) => s.indexOf(sub),
  index: (s, sub: string) => {
    const i = s.indexOf(sub);
    if (i < 0) throw new Error('substring not found');
    return i;
  },
  count: (s, sub: string) => (sub === '' ? s.length + 1 : s.split(sub).length - 1),
  isdigit: (s) => /^\d+$/.test(s),
  isnumeric: (s) => /^\d+$/.test(s),
  isalpha: (s) => /^[A-Za-z]+$/.test(s),
  isalnum: (s) => /^[A-Za-z0-9]+$/.test(s),
  isupper: (s) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  islower: (s) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isspace: (s) => /^\s+$/.test(s),
  zfill: (s, width: number) => s.padStart(width, '0'),
  ljust: (s, width: number, fill?: string) => s.padEnd(width, fill ?? ' '),
  rjust: (s, width: number, fill?: string) => s.padStart(width, fill ?? ' '),
  center: (s, width: number) => s.padStart(Math.floor((width + s.length) / 2)).padEnd(width),
  splitlines: (s) => s.split(/\r?\n/).filter((line, i, all) => i < all.length - 1 || line !== ''),
  partition: (s, sep: string) => {
    const i = s.indexOf(sep);
    return i < 0 ? [s, '', ''] : [s.slice(0, i), sep, s.slice(i + sep.length)];
  },
  swapcase: (s) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join(''),
  casefold: (s) => s.toLowerCase(),
  removeprefix: (s, prefix: string) => (s.startsWith(prefix) ? s.slice(prefix.length) : s),
  removesuffix: (s, suffix: string) => (suffix && s.endsWith(suffix) ? s.slice(0, -suffix.length) : s),
  encode: (s) => s,
};

/** List methods nunjucks' Jinja compatibility lacks. */
const LIST_METHODS: Record<string, (l: unknown[], ...args: never[]) => unknown> = {
  extend: (l, items: unknown[]) => {
    l.push(...items);
    return null;
  },
  copy: (l) => [...l],
  reverse: (l) => {
    l.reverse();
    return null;
  },
  sort: (l) => {
    l.sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
    return null;
  },
  clear: (l) => {
    l.length = 0;
    return null;
  },
};

/** Python's str.format: `{}`, `{0}`, `{name}`, `{{`/`}}`; a format spec after `:` is ignored. */
function pyFormat(s: string, args: readonly unknown[]): string {
  const last = args[args.length - 1] as Record<string, unknown> | undefined;
  const hasKw = !!last && typeof last === 'object' && (last as { __keywords?: unknown }).__keywords === true;
  const positional = hasKw ? args.slice(0, -1) : args;
  let auto = 0;
  return s.replace(/\{\{|\}\}|\{([^{}:!]*)(?:![rsa])?(?::[^{}]*)?\}/g, (m, field: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const key = field ?? '';
    const value = key === '' ? positional[auto++] : /^\d+$/.test(key) ? positional[Number(key)] : hasKw ? last![key] : undefined;
    return value === null || value === undefined ? (value === null ? 'None' : '') : String(value);
  });
}

function trimChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s[a]!)) a++;
  while (right && b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function pySplit(s: string, sep?: string, max?: number): string[] {
  const parts = sep === undefined ? s.trim().split(/\s+/).filter(Boolean) : s.split(sep);
  if (max === undefined || max < 0 || parts.length <= max + 1) return parts;
  return [...parts.slice(0, max), parts.slice(max).join(sep ?? ' ')];
}

let installed = false;

export function installJinjaCompat(): void {
  if (installed) return;
  installed = true;
  nunjucks.installJinjaCompat();
  const runtime = (nunjucks as unknown as { runtime: { memberLookup: (...a: unknown[]) => unknown } }).runtime;
  const withDictAndList = runtime.memberLookup;
  const SafeString = (nunjucks as unknown as { runtime: { SafeString: new (s: string) => object } }).runtime.SafeString;
  runtime.memberLookup = function memberLookup(this: unknown, obj: unknown, key: unknown, ...rest: unknown[]) {
    // A macro's output is a SafeString: Python code treats it as the str it is.
    const text = typeof obj === 'string' ? obj : obj instanceof SafeString ? String(obj) : undefined;
    if (text !== undefined && typeof key === 'string' && Object.prototype.hasOwnProperty.call(STRING_METHODS, key)) {
      const method = STRING_METHODS[key]!;
      return (...args: never[]) => method(text, ...args);
    }
    if (Array.isArray(obj) && typeof key === 'string' && Object.prototype.hasOwnProperty.call(LIST_METHODS, key)) {
      const method = LIST_METHODS[key]!;
      return (...args: never[]) => method(obj, ...args);
    }
    if (obj && typeof obj === 'object' && !Array.isArray(obj) && typeof key === 'string' && key in obj) {
      // An object's own method (a query result's `.values()`) wins over the dict method of that name.
      const member = (obj as Record<string, unknown>)[key];
      if (typeof member === 'function') return Object.keys(member).length ? member : (member as (...a: unknown[]) => unknown).bind(obj);
    }
    if (typeof obj === 'object' && obj !== null && typeof key === 'string') {
      // A function with members is a namespace (`modules.datetime.datetime.now`): keep it whole.
      const member = (obj as Record<string, unknown>)[key];
      if (typeof member === 'function' && Object.keys(member).length) return member;
    }
    if (key === 'copy' && obj && typeof obj === 'object' && !Array.isArray(obj) && !('copy' in obj)) return () => ({ ...obj });
    return withDictAndList.call(this, obj, key, ...rest);
  };
}
