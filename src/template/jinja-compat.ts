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
  join: (s, items: unknown[]) => items.map(String).join(s),
};

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
  runtime.memberLookup = function memberLookup(this: unknown, obj: unknown, key: unknown, ...rest: unknown[]) {
    if (typeof obj === 'string' && typeof key === 'string' && Object.prototype.hasOwnProperty.call(STRING_METHODS, key)) {
      const method = STRING_METHODS[key]!;
      return (...args: never[]) => method(obj, ...args);
    }
    return withDictAndList.call(this, obj, key, ...rest);
  };
}
