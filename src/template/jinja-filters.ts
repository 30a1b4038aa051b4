import nunjucks from 'nunjucks';
import { fromjson, splitKeywords, tojson } from './python-modules.js';

/**
 * Jinja filters and tests dbt code uses that nunjucks lacks (`map`, `unique`, `tojson`,
 * `is none`, `is mapping`, …), added to one environment.
 */

function attribute(item: unknown, path: string): unknown {
  let value: unknown = item;
  for (const part of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function asList(value: unknown): unknown[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [...value];
  if (typeof value === 'object' && Symbol.iterator in value) return [...(value as Iterable<unknown>)];
  if (typeof value === 'object') return Object.keys(value);
  return [value];
}

export function installJinjaFilters(env: nunjucks.Environment): void {
  const withTests = env as unknown as { addTest(name: string, test: (...a: never[]) => boolean): void };
  const filters = (env as unknown as { filters: Record<string, (...a: unknown[]) => unknown> }).filters;
  env.addFilter('map', (value: unknown, ...args: unknown[]) => {
    const { positional, kw } = splitKeywords(args);
    const items = asList(value);
    if (kw.attribute !== undefined) {
      return items.map((item) => attribute(item, String(kw.attribute)) ?? kw.default);
    }
    const name = String(positional[0]);
    const filter = filters[name];
    if (!filter) throw new Error(`map(): no filter named '${name}'`);
    return items.map((item) => filter(item, ...positional.slice(1)));
  });
  env.addFilter('unique', (value: unknown) => [...new Set(asList(value))]);
  env.addFilter('tojson', (value: unknown, ...args: unknown[]) => tojson(value, ...args));
  env.addFilter('fromjson', (value: unknown) => fromjson(value));
  env.addFilter('items', (value: unknown) => Object.entries((value ?? {}) as object));
  env.addFilter('bool', (value: unknown) => (typeof value === 'string' ? ['true', 'yes', 'on', '1'].includes(value.toLowerCase()) : Boolean(value)));
  env.addFilter('as_bool', (value: unknown) => (typeof value === 'string' ? value.toLowerCase() === 'true' : Boolean(value)));
  env.addFilter('as_number', (value: unknown) => Number(value));
  env.addFilter('as_text', (value: unknown) => (value === null || value === undefined ? '' : String(value)));
  env.addFilter('as_native', (value: unknown) => value);
  env.addFilter('min', (value: unknown) => asList(value).reduce((a, b) => ((b as number) < (a as number) ? b : a)));
  env.addFilter('max', (value: unknown) => asList(value).reduce((a, b) => ((b as number) > (a as number) ? b : a)));
  withTests.addTest('none', (value: unknown) => value === null || value === undefined);
  withTests.addTest('boolean', (value: unknown) => typeof value === 'boolean');
  withTests.addTest('integer', (value: unknown) => typeof value === 'number' && Number.isInteger(value));
  withTests.addTest('float', (value: unknown) => typeof value === 'number' && !Number.isInteger(value));
  withTests.addTest('sequence', (value: unknown) => typeof value === 'string' || Array.isArray(value));
  withTests.addTest('in', (value: unknown, container: unknown) =>
    typeof container === 'string' ? container.includes(String(value)) : Array.isArray(container) ? container.includes(value) : !!container && typeof container === 'object' && String(value) in container,
  );
}
