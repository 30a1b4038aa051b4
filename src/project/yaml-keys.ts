import type { Warning } from '../errors.js';
import { didYouMean } from './closest.js';
import { isPlainObject } from './node-config.js';
import type { YamlFile } from './yaml-file.js';

/**
 * The keys kiln knows in each YAML file it reads. A key outside them is most likely a typo that
 * silently switches something off (`data_test:` drops the tests, `requird:` the check), so it is
 * a warning with its `file:line` and the nearest known key, and an error under strict mode.
 * dbt spellings kiln supports are known; dbt features kiln does not have are `unsupported`: a
 * plain warning that they are ignored (not a typo, so strict mode leaves them alone).
 */
export type KeyShape = 'any' | MapShape | ListShape;

export interface MapShape {
  readonly kind: 'map';
  /** What the mapping is, for messages: "source table", "column". */
  readonly what: string;
  readonly keys: Readonly<Record<string, KeyShape>>;
  readonly unsupported?: readonly string[];
}

export interface ListShape {
  readonly kind: 'list';
  readonly of: KeyShape;
}

const map = (what: string, keys: Record<string, KeyShape>, unsupported: readonly string[] = []): MapShape => ({ kind: 'map', what, keys, unsupported });
const list = (of: KeyShape): ListShape => ({ kind: 'list', of });
const any = 'any' as const;

/** Test entries are checked against their macro's signature at compile (compile/test-signatures). */
const TESTS = any;
/** Node config is checked key by key by normalizeConfig (node-config.ts). */
const CONFIG = any;

const DOC_KEYS = { description: any, meta: any, tags: any, docs: any } as const;

/** A column constraint (dbt's keys); its type and expression are checked at compile (compile/table-contract.ts). */
const CONSTRAINT_SHAPE = map('constraint', {
  type: any, expression: any, name: any, warn_unenforced: any, warn_unsupported: any, to: any, to_columns: any, columns: any,
});

export const COLUMN_SHAPE = map('column', {
  name: any, ...DOC_KEYS, data_type: any, type: any, quote: any, data_tests: TESTS, tests: TESTS, config: any,
  constraints: list(CONSTRAINT_SHAPE), codec: any, ttl: any,
}, ['granularity']);

/** Loader options: valid on a source (for all its tables) and on a table. */
const LOADER_KEYS = {
  loader: any,
  database: any,
  path: any,
  delimiter: any,
  required: any,
  max_rejected: any,
  dump: any,
  connection: map('connection', { host: any, port: any, database: any, user: any, password: any }),
  incremental_key: any,
  sharding_key: any,
  freshness: map('freshness', {
    warn_after: map('freshness threshold', { count: any, period: any }),
    error_after: map('freshness threshold', { count: any, period: any }),
  }, ['filter']),
  loaded_at_field: any,
  enabled: any,
} as const;

const SOURCE_UNSUPPORTED = ['quoting', 'overrides', 'external', 'loaded_at_query'];

export const SOURCE_TABLE_SHAPE = map('source table', {
  name: any, identifier: any, mysql_table: any, ...DOC_KEYS, config: CONFIG, columns: list(COLUMN_SHAPE),
  data_tests: TESTS, tests: TESTS, ...LOADER_KEYS,
}, SOURCE_UNSUPPORTED);

export const SOURCE_SHAPE = map('source', {
  name: any, schema: any, ...DOC_KEYS, config: CONFIG, tables: list(SOURCE_TABLE_SHAPE), ...LOADER_KEYS,
}, SOURCE_UNSUPPORTED);

const NODE_KEYS = { name: any, ...DOC_KEYS, config: CONFIG, columns: list(COLUMN_SHAPE), data_tests: TESTS, tests: TESTS } as const;

export const MODEL_SHAPE = map('model', { ...NODE_KEYS, access: any, group: any, deprecation_date: any },
  ['constraints', 'versions', 'latest_version', 'time_spine']);

export const SEED_SHAPE = map('seed', NODE_KEYS);

export const SNAPSHOT_SHAPE = map('snapshot', { ...NODE_KEYS, relation: any });

const FIXTURE = { rows: any, format: any } as const;

export const UNIT_TEST_SHAPE = map('unit test', {
  name: any, model: any, description: any, tags: any,
  config: map('unit test config', { tags: any, meta: any, enabled: any }),
  given: list(map('unit test input', { input: any, ...FIXTURE }, ['fixture'])),
  expect: map('unit test expect', FIXTURE, ['fixture']),
  overrides: map('unit test overrides', { macros: any, vars: any, is_incremental: any }, ['env_vars']),
}, ['versions']);

/** A properties file (sources.yml, models/**.yml, seeds/**.yml). */
export const PROPERTIES_SHAPE = map('properties file', {
  version: any,
  models: list(MODEL_SHAPE),
  seeds: list(SEED_SHAPE),
  snapshots: list(SNAPSHOT_SHAPE),
  sources: list(SOURCE_SHAPE),
  unit_tests: list(UNIT_TEST_SHAPE),
}, ['macros', 'exposures', 'metrics', 'analyses', 'semantic_models', 'saved_queries', 'groups', 'data_tests']);

/**
 * Walks `value` (found at `path` of `yaml`) against `shape` and warns about every key it does not
 * know. Values of the wrong type are left to the readers, which report them as errors.
 */
export function checkKeys(yaml: YamlFile, path: ReadonlyArray<string | number>, value: unknown, shape: KeyShape, warnings: Warning[]): void {
  if (shape === 'any') return;
  if (shape.kind === 'list') {
    if (Array.isArray(value)) value.forEach((item, i) => checkKeys(yaml, [...path, i], item, shape.of, warnings));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    const at = [...path, key];
    const known = shape.keys[key];
    if (known !== undefined) {
      checkKeys(yaml, at, child, known, warnings);
      continue;
    }
    const location = { file: yaml.file, line: yaml.keyLineOf(at) };
    if (shape.unsupported?.includes(key)) {
      warnings.push({ message: `'${key}' in ${shape.what} is not supported by kiln (ignored)`, location });
      continue;
    }
    warnings.push(unknownKeyWarning(key, shape.what, Object.keys(shape.keys), location));
  }
}

/** The warning for a key kiln does not know, with the closest known one as the hint. */
export function unknownKeyWarning(key: string, what: string, known: Iterable<string>, location: Warning['location']): Warning {
  const hint = didYouMean(key, known);
  return { message: `unknown key '${key}' in ${what} (ignored)`, ...(location ? { location } : {}), ...(hint ? { hint } : {}), unknownKey: true };
}
