import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { didYouMean } from './closest.js';
import { MATERIALIZED_VALUES, type FolderConfig, type NodeConfig } from './types.js';

/** Config keys kiln understands; anything else is kept but warned about (likely a typo). */
export const KNOWN_CONFIG_KEYS: readonly string[] = [
  'materialized', 'enabled', 'tags', 'database', 'schema', 'alias', 'engine', 'order_by', 'partition_by',
  'primary_key', 'settings', 'ttl', 'pre_hook', 'post_hook', 'incremental_strategy', 'unique_key',
  'on_schema_change', 'column_types', 'meta', 'docs', 'persist_docs', 'full_refresh', 'quote_columns',
  'severity', 'warn_if', 'error_if', 'where', 'limit', 'store_failures', 'delimiter', 'contract',
  'grants', 'group', 'access', 'description', 'indexes', 'projections',
  // dbt-clickhouse's spellings: kept in the manifest like dbt keeps them.
  'query_settings', 'sharding_key', 'inserts_only', 'incremental_predicates', 'sql_security', 'definer',
  // materialized_view (dbt-clickhouse)
  'catchup',
  // snapshots (dbt 1.9)
  'strategy', 'updated_at', 'check_cols', 'hard_deletes', 'invalidate_hard_deletes', 'snapshot_meta_column_names',
  'dbt_valid_to_current', 'target_database', 'target_schema',
  // microbatch incremental (dbt 1.9)
  'event_time', 'batch_size', 'lookback', 'begin', 'concurrent_batches',
];

/** Config keys whose value is a mapping: in a folder config they are config, not a subfolder. */
const MAPPING_KEYS = new Set(['settings', 'query_settings', 'meta', 'snapshot_meta_column_names', 'contract']);

const LIST_KEYS = new Set(['tags', 'pre_hook', 'post_hook']);

/**
 * Normalises one config object: dbt's `+key` and `pre-hook` spellings, lists for tags and hooks,
 * validation of enumerations. Unknown keys produce warnings.
 */
export function normalizeConfig(raw: Record<string, unknown>, where: SourceLocation, warnings: Warning[]): NodeConfig {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(raw)) {
    const key = rawKey.replace(/^\+/, '').replace(/-/g, '_');
    if (!KNOWN_CONFIG_KEYS.includes(key)) {
      const hint = didYouMean(key, KNOWN_CONFIG_KEYS);
      warnings.push({ message: `unknown config key '${rawKey}'`, location: where, ...(hint ? { hint } : {}), unknownKey: true });
    }
    out[key] = LIST_KEYS.has(key) ? toList(value) : value;
  }
  if (out.materialized !== undefined && !MATERIALIZED_VALUES.includes(out.materialized as never)) {
    const name = String(out.materialized);
    const problem = {
      message: `unknown materialization '${name}'`,
      location: where,
      hint: didYouMean(name, MATERIALIZED_VALUES) ?? `use one of ${MATERIALIZED_VALUES.join(', ')}`,
    };
    // A package's {% materialization %} may define it: compile decides, when the macros are loaded.
    if (typeof out.materialized === 'string' && /^\w+$/.test(name)) warnings.push({ ...problem, materialization: name });
    else throw new KilnError('CONFIG_INVALID', problem.message, { location: problem.location, hint: problem.hint });
  }
  if (out.enabled !== undefined && typeof out.enabled !== 'boolean') {
    throw new KilnError('CONFIG_INVALID', `config 'enabled' must be true or false`, { location: where });
  }
  return out as NodeConfig;
}

function toList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}

/**
 * Later configs win key by key, except tags and hooks, which accumulate (dbt's "clobber vs
 * append" rule) and settings/meta, which merge.
 */
export function mergeConfigs(...configs: ReadonlyArray<NodeConfig | undefined>): NodeConfig {
  const out: Record<string, unknown> = {};
  for (const config of configs) {
    if (!config) continue;
    for (const [key, value] of Object.entries(config)) {
      if (value === undefined) continue;
      if (LIST_KEYS.has(key)) {
        const merged = [...((out[key] as string[] | undefined) ?? []), ...(value as string[])];
        out[key] = key === 'tags' ? [...new Set(merged)] : merged;
      } else if ((key === 'settings' || key === 'query_settings' || key === 'meta') && isPlainObject(value) && isPlainObject(out[key])) {
        out[key] = { ...(out[key] as object), ...value };
      } else {
        out[key] = value;
      }
    }
  }
  return out as NodeConfig;
}

/**
 * Parses a folder config tree (`models:` in project.yml). A key is a config key when it starts
 * with `+` or is a known config name, otherwise it names a subfolder. `locate` gives the line
 * of a subfolder's key (by its folder path), or of one config key in it, so problems point at
 * the key's own line. `render` renders a value's Jinja (`+enabled: "{{ var('x', false) }}"`), as
 * dbt renders project configs.
 */
export function parseFolderConfig(
  raw: unknown,
  where: SourceLocation,
  warnings: Warning[],
  locate?: (folders: readonly string[], key?: string) => SourceLocation,
  folders: readonly string[] = [],
  render?: (value: unknown, where: SourceLocation) => unknown,
): FolderConfig {
  const config: Record<string, unknown> = {};
  const children = new Map<string, FolderConfig>();
  if (raw !== undefined && raw !== null) {
    if (!isPlainObject(raw)) {
      throw new KilnError('CONFIG_INVALID', 'folder configs must be a mapping', { location: where });
    }
    for (const [key, value] of Object.entries(raw)) {
      const bare = key.replace(/^\+/, '').replace(/-/g, '_');
      if (key.startsWith('+') || (KNOWN_CONFIG_KEYS.includes(bare) && !isPlainObject(value)) || MAPPING_KEYS.has(bare)) {
        config[key] = value;
      } else if (isPlainObject(value)) {
        const path = [...folders, key];
        children.set(key, parseFolderConfig(value, locate ? locate(path) : where, warnings, locate, path, render));
      } else {
        config[key] = value; // normalizeConfig warns about it
      }
    }
  }
  // Key by key, so an error or a warning names the key's own line.
  const normalized: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const at = locate ? locate(folders, key) : where;
    // Hooks are SQL templates rendered when they run (dbt too), with the node's context: not here.
    const hook = /^\+?(pre|post)[-_]hook$/.test(key);
    Object.assign(normalized, normalizeConfig({ [key]: render && !hook ? typedRendering(render(value, at)) : value }, at, warnings));
  }
  return { config: normalized as NodeConfig, children, location: where };
}

/** Jinja renders to text; `true`/`false` (any case) are the booleans dbt's configs mean by them. */
export function typedRendering(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const t = value.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : value;
}

/** Config for a file at `segments` (folders relative to its resource path), outermost first. */
export function folderConfigFor(tree: FolderConfig, segments: readonly string[], projectName: string): NodeConfig {
  // dbt nests folder configs under the project name; accept both spellings.
  const chain: NodeConfig[] = [tree.config];
  let cur: FolderConfig | undefined = tree;
  const projectLevel = tree.children.get(projectName);
  if (projectLevel) {
    chain.push(projectLevel.config);
    cur = projectLevel;
  }
  for (const seg of segments) {
    cur = cur.children.get(seg);
    if (!cur) break;
    chain.push(cur.config);
  }
  return mergeConfigs(...chain);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
