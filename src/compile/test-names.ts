import { createHash } from 'node:crypto';

/**
 * Generic test names as dbt synthesizes them, so unique ids match a dbt user's expectations:
 * `<test>_<target>_<args…>` with every argument flattened and cleaned, `__`-joined in argument-name
 * order. A name of 64 characters or more gets a short form (first 30 characters of
 * `<test>_<target>` plus the md5 of the full name) for file names and tables; the full name stays
 * the node's name and unique id.
 */
export interface TestNames {
  readonly full: string;
  readonly short: string;
}

export function synthesizeTestNames(testType: string, targetName: string, args: Readonly<Record<string, unknown>>): TestNames {
  const flat: string[] = [];
  for (const key of Object.keys(args).sort()) {
    if (key === 'model') continue;
    const value = args[key];
    const parts = Array.isArray(value) ? value : value !== null && typeof value === 'object' ? Object.values(value) : [value];
    flat.push(...parts.map(pythonStr));
  }
  const unique = flat.map((a) => a.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testType}_${targetName}`;
  const full = `${identifier}_${unique}`;
  if (full.length < 64) return { full, short: full };
  return { full, short: `${identifier.slice(0, 30)}_${createHash('md5').update(full).digest('hex')}` };
}

/** `str()` as Python prints YAML scalars, which is what dbt's names are made of. */
function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `'${k}': ${pythonRepr(v)}`).join(', ')}}`;
  return String(value);
}

function pythonRepr(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : pythonStr(value);
}
