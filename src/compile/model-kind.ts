import { KilnError, type SourceLocation } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import type { NodeConfig } from '../project/types.js';

export type IncrementalStrategy = 'append' | 'insert_overwrite' | 'delete_insert';
export type OnSchemaChange = 'ignore' | 'fail' | 'append_new_columns';

export const INCREMENTAL_STRATEGIES: readonly IncrementalStrategy[] = ['append', 'insert_overwrite', 'delete_insert'];
export const ON_SCHEMA_CHANGE_MODES: readonly OnSchemaChange[] = ['ignore', 'fail', 'append_new_columns'];

/** dbt-clickhouse's spellings of kiln's strategies. */
const STRATEGY_ALIASES: Readonly<Record<string, IncrementalStrategy>> = { 'delete+insert': 'delete_insert' };

/**
 * What a model or seed is built as, with the settings that kind needs, checked at compile: a
 * node that reaches execution has a kind its materialization can build, so a typo is exit 2
 * before anything runs instead of an error halfway through a run.
 */
export type ModelKind =
  | { readonly materialized: 'view' }
  | { readonly materialized: 'table' }
  | { readonly materialized: 'ephemeral' }
  | { readonly materialized: 'seed' }
  | {
      readonly materialized: 'incremental';
      readonly strategy: IncrementalStrategy;
      /** Columns identifying a row; required by delete_insert. */
      readonly uniqueKey: readonly string[];
      readonly onSchemaChange: OnSchemaChange;
    }
  | {
      readonly materialized: 'materialized_view';
      /** Backfill the target from the rows already in the sources when it is (re)built (dbt-clickhouse's `catchup`, default true). */
      readonly catchup: boolean;
    };


/** Kinds without settings, shared: a 10k-model project has 10k of them. */
const SIMPLE_KINDS: Readonly<Record<Exclude<ModelKind['materialized'], 'incremental' | 'materialized_view'>, ModelKind>> = {
  view: Object.freeze({ materialized: 'view' }),
  table: Object.freeze({ materialized: 'table' }),
  ephemeral: Object.freeze({ materialized: 'ephemeral' }),
  seed: Object.freeze({ materialized: 'seed' }),
};

/** Where a config key was set, for the error's `file:line`. */
export type ConfigKeyLocator = (key: string) => SourceLocation;

/** Validates a node's merged config into its kind; throws CONFIG_INVALID pointing at the key. */
export function modelKindOf(config: NodeConfig, locate: ConfigKeyLocator): ModelKind {
  const materialized = config.materialized ?? 'view';
  if (materialized === 'materialized_view') {
    if (config.catchup !== undefined && typeof config.catchup !== 'boolean') {
      throw new KilnError('CONFIG_INVALID', `config 'catchup' must be true or false`, { location: locate('catchup'), hint: 'catchup=false skips the backfill of the target' });
    }
    return { materialized, catchup: config.catchup !== false };
  }
  if (materialized !== 'incremental') return SIMPLE_KINDS[materialized];
  const strategy = incrementalStrategy(config.incremental_strategy, locate);
  const uniqueKey = keyColumns(config.unique_key);
  const invalid = (key: string, message: string, hint: string) => new KilnError('CONFIG_INVALID', message, { location: locate(key), hint });
  if (strategy === 'delete_insert' && uniqueKey.length === 0) {
    throw invalid('incremental_strategy', `incremental_strategy 'delete_insert' needs a unique_key`, "config(unique_key='id')");
  }
  if (strategy === 'insert_overwrite' && !config.partition_by) {
    throw invalid('incremental_strategy', `incremental_strategy 'insert_overwrite' needs partition_by`, "config(partition_by='toYYYYMM(created_at)')");
  }
  const mode = config.on_schema_change ?? 'ignore';
  if (!ON_SCHEMA_CHANGE_MODES.includes(mode as OnSchemaChange)) {
    throw invalid('on_schema_change', `unknown on_schema_change '${String(mode)}'`, didYouMean(String(mode), ON_SCHEMA_CHANGE_MODES) ?? `use ${ON_SCHEMA_CHANGE_MODES.join(', ')}`);
  }
  return { materialized, strategy, uniqueKey, onSchemaChange: mode as OnSchemaChange };
}

function incrementalStrategy(value: unknown, locate: ConfigKeyLocator): IncrementalStrategy {
  if (value === undefined || value === null) return 'append';
  const text = String(value);
  const strategy = STRATEGY_ALIASES[text] ?? text;
  if (INCREMENTAL_STRATEGIES.includes(strategy as IncrementalStrategy)) return strategy as IncrementalStrategy;
  throw new KilnError('CONFIG_INVALID', `unknown incremental_strategy '${text}'`, {
    location: locate('incremental_strategy'),
    hint: didYouMean(text, INCREMENTAL_STRATEGIES) ?? `use ${INCREMENTAL_STRATEGIES.join(', ')}`,
  });
}

/** `unique_key` as dbt takes it: a column, a comma-separated list, or a list. */
function keyColumns(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : String(value).split(',')).map((s) => String(s).trim()).filter(Boolean);
}

/**
 * The line that sets `key` for a model: its `config()` call in the SQL file, else its properties
 * entry, else the model file (the key came from a folder config in project.yml).
 */
export function modelConfigLocator(file: string, rawCode: string, patch: SourceLocation | undefined): ConfigKeyLocator {
  return (key) => {
    const m = new RegExp(`\\b${key}\\s*=`).exec(rawCode);
    if (m) return { file, line: rawCode.slice(0, m.index).split('\n').length };
    return patch ?? { file };
  };
}
