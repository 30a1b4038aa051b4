import { KilnError, type SourceLocation } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import type { NodeConfig } from '../project/types.js';

export type IncrementalStrategy = 'append' | 'insert_overwrite' | 'delete_insert' | 'microbatch';
export type OnSchemaChange = 'ignore' | 'fail' | 'append_new_columns';

export const INCREMENTAL_STRATEGIES: readonly IncrementalStrategy[] = ['append', 'insert_overwrite', 'delete_insert', 'microbatch'];
export type BatchSize = 'hour' | 'day' | 'month';
export const BATCH_SIZES: readonly BatchSize[] = ['hour', 'day', 'month'];

/** dbt 1.9's microbatch settings, validated. */
export interface MicrobatchSpec {
  /** The model's (and its upstreams') time column. */
  readonly eventTime: string;
  readonly batchSize: BatchSize;
  /** Batches before the current one that an incremental run reprocesses. */
  readonly lookback: number;
  /** Where the first build starts (UTC). */
  readonly begin?: Date;
}
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
      /** Set exactly when the strategy is microbatch. */
      readonly microbatch?: MicrobatchSpec;
    }
  | {
      readonly materialized: 'materialized_view';
      /** Backfill the target from the rows already in the sources when it is (re)built (dbt-clickhouse's `catchup`, default true). */
      readonly catchup: boolean;
    }
  | { readonly materialized: 'distributed_table' }
  | DistributedIncrementalKind
  | SnapshotKind;

/** Strategies a distributed_incremental model takes (each rebuilds the shards' tables and swaps them in). */
export type DistributedIncrementalStrategy = 'append' | 'delete_insert' | 'insert_overwrite';
export const DISTRIBUTED_INCREMENTAL_STRATEGIES: readonly DistributedIncrementalStrategy[] = ['append', 'delete_insert', 'insert_overwrite'];

/** dbt-clickhouse's distributed_incremental: kiln's incremental on a `<name>_local` + Distributed layout. */
export interface DistributedIncrementalKind {
  readonly materialized: 'distributed_incremental';
  readonly strategy: DistributedIncrementalStrategy;
  readonly uniqueKey: readonly string[];
  readonly onSchemaChange: OnSchemaChange;
}

/** The materializations that build a local table on every shard plus a Distributed table over them. */
export const DISTRIBUTED_KINDS: ReadonlySet<string> = new Set(['distributed_table', 'distributed_incremental']);

export type SnapshotStrategy = 'timestamp' | 'check';
export type HardDeletes = 'ignore' | 'invalidate' | 'new_record';
export const SNAPSHOT_STRATEGIES: readonly SnapshotStrategy[] = ['timestamp', 'check'];
export const HARD_DELETES_MODES: readonly HardDeletes[] = ['ignore', 'invalidate', 'new_record'];

/** The names of a snapshot's metadata columns (dbt 1.9's snapshot_meta_column_names). */
export interface SnapshotColumnNames {
  readonly dbt_scd_id: string;
  readonly dbt_updated_at: string;
  readonly dbt_valid_from: string;
  readonly dbt_valid_to: string;
  readonly dbt_is_deleted: string;
}

/** A snapshot (SCD type 2) as dbt defines it, validated. */
export interface SnapshotKind {
  readonly materialized: 'snapshot';
  readonly strategy: SnapshotStrategy;
  readonly uniqueKey: readonly string[];
  /** timestamp strategy: the column (or expression) that says when a row changed. */
  readonly updatedAt?: string;
  /** check strategy: the columns compared, or every column of the query. */
  readonly checkCols: readonly string[] | 'all';
  readonly hardDeletes: HardDeletes;
  readonly columnNames: SnapshotColumnNames;
  /** SQL expression for dbt_valid_to of current rows, instead of NULL. */
  readonly validToCurrent?: string;
}


/** Kinds without settings, shared: a 10k-model project has 10k of them. */
const SIMPLE_KINDS: Readonly<Record<Exclude<ModelKind['materialized'], 'incremental' | 'snapshot' | 'materialized_view' | 'distributed_incremental'>, ModelKind>> = {
  view: Object.freeze({ materialized: 'view' }),
  distributed_table: Object.freeze({ materialized: 'distributed_table' }),
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
  if (materialized === 'snapshot') return snapshotKindOf(config, locate);
  if (materialized === 'distributed_incremental') return distributedIncrementalKindOf(config, locate);
  if (materialized !== 'incremental') return SIMPLE_KINDS[materialized];
  const strategy = incrementalStrategy(config.incremental_strategy, locate);
  const uniqueKey = keyColumns(config.unique_key);
  const invalid = (key: string, message: string, hint: string) => new KilnError('CONFIG_INVALID', message, { location: locate(key), hint });
  if (strategy === 'delete_insert' && uniqueKey.length === 0) {
    throw invalid('incremental_strategy', `incremental_strategy 'delete_insert' needs a unique_key`, "config(unique_key='id')");
  }
  if (strategy !== 'microbatch' && config.event_time === undefined && (config.batch_size !== undefined || config.begin !== undefined)) {
    throw invalid(config.batch_size !== undefined ? 'batch_size' : 'begin', `batch_size and begin are for incremental_strategy 'microbatch'`, "config(incremental_strategy='microbatch', event_time='created_at', batch_size='day', begin='2025-01-01')");
  }
  if (strategy === 'insert_overwrite' && !config.partition_by) {
    throw invalid('incremental_strategy', `incremental_strategy 'insert_overwrite' needs partition_by`, "config(partition_by='toYYYYMM(created_at)')");
  }
  const mode = config.on_schema_change ?? 'ignore';
  if (!ON_SCHEMA_CHANGE_MODES.includes(mode as OnSchemaChange)) {
    throw invalid('on_schema_change', `unknown on_schema_change '${String(mode)}'`, didYouMean(String(mode), ON_SCHEMA_CHANGE_MODES) ?? `use ${ON_SCHEMA_CHANGE_MODES.join(', ')}`);
  }
  const microbatch = strategy === 'microbatch' ? microbatchSpec(config, invalid) : undefined;
  return { materialized, strategy, uniqueKey, onSchemaChange: mode as OnSchemaChange, ...(microbatch ? { microbatch } : {}) };
}

const DEFAULT_COLUMN_NAMES: SnapshotColumnNames = {
  dbt_scd_id: 'dbt_scd_id',
  dbt_updated_at: 'dbt_updated_at',
  dbt_valid_from: 'dbt_valid_from',
  dbt_valid_to: 'dbt_valid_to',
  dbt_is_deleted: 'dbt_is_deleted',
};

type Invalid = (key: string, message: string, hint: string) => KilnError;

function microbatchSpec(config: NodeConfig, invalid: Invalid): MicrobatchSpec {
  const example = "config(incremental_strategy='microbatch', event_time='created_at', batch_size='day', begin='2025-01-01')";
  const eventTime = typeof config.event_time === 'string' ? config.event_time.trim() : '';
  if (!eventTime) throw invalid('incremental_strategy', `incremental_strategy 'microbatch' needs event_time`, example);
  const batchSize = config.batch_size === undefined ? undefined : String(config.batch_size);
  if (batchSize === undefined) throw invalid('incremental_strategy', `incremental_strategy 'microbatch' needs batch_size (hour, day or month)`, example);
  if (!BATCH_SIZES.includes(batchSize as BatchSize)) {
    throw invalid('batch_size', `unknown batch_size '${batchSize}'`, didYouMean(batchSize, BATCH_SIZES) ?? `use ${BATCH_SIZES.join(', ')}`);
  }
  const lookback = config.lookback === undefined ? 1 : Number(config.lookback);
  if (!Number.isInteger(lookback) || lookback < 0) throw invalid('lookback', `lookback must be a whole number of batches, got '${String(config.lookback)}'`, 'lookback=1');
  let begin: Date | undefined;
  if (config.begin !== undefined && config.begin !== null) {
    begin = parseUtc(String(config.begin));
    if (!begin) throw invalid('begin', `begin '${String(config.begin)}' is not a date or time`, "begin='2025-01-01' or begin='2025-01-01 06:00:00' (UTC)");
  }
  if (config.partition_by !== undefined) {
    throw invalid('partition_by', `a microbatch model is partitioned by its batches: partition_by cannot be set`, 'remove partition_by; kiln partitions the table by event_time per batch_size, so each batch replaces its partition atomically');
  }
  return { eventTime, batchSize: batchSize as BatchSize, lookback, ...(begin ? { begin } : {}) };
}

/** A date or date-time as UTC (`2025-01-01`, `2025-01-01 06:00:00`, ISO 8601 with an offset). */
export function parseUtc(text: string): Date | undefined {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) return undefined;
  const iso = t.replace(' ', 'T');
  const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(iso) ? iso : iso.length === 10 ? `${iso}T00:00:00Z` : `${iso}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function snapshotKindOf(config: NodeConfig, locate: ConfigKeyLocator): SnapshotKind {
  const invalid = (key: string, message: string, hint: string) => new KilnError('CONFIG_INVALID', message, { location: locate(key), hint });
  const strategy = config.strategy === undefined ? undefined : String(config.strategy);
  if (strategy === undefined) throw invalid('strategy', 'a snapshot needs a strategy', "config(strategy='timestamp', updated_at='updated_at') or config(strategy='check', check_cols='all')");
  if (!SNAPSHOT_STRATEGIES.includes(strategy as SnapshotStrategy)) {
    throw invalid('strategy', `unknown snapshot strategy '${strategy}'`, didYouMean(strategy, SNAPSHOT_STRATEGIES) ?? `use ${SNAPSHOT_STRATEGIES.join(' or ')}`);
  }
  const uniqueKey = keyColumns(config.unique_key);
  if (uniqueKey.length === 0) throw invalid('unique_key', 'a snapshot needs a unique_key', "config(unique_key='id'), or a list: unique_key=['id', 'region']");
  const updatedAt = typeof config.updated_at === 'string' && config.updated_at.trim() ? config.updated_at.trim() : undefined;
  if (strategy === 'timestamp' && !updatedAt) throw invalid('updated_at', `snapshot strategy 'timestamp' needs updated_at`, "config(updated_at='updated_at')");
  let checkCols: readonly string[] | 'all' = 'all';
  if (strategy === 'check') {
    const raw = config.check_cols;
    if (raw === 'all') checkCols = 'all';
    else if (Array.isArray(raw) && raw.length > 0 && raw.every((c) => typeof c === 'string')) checkCols = raw as string[];
    else throw invalid('check_cols', `snapshot strategy 'check' needs check_cols: a list of columns or 'all'`, "config(check_cols=['role']) or config(check_cols='all')");
  }
  const legacy = config.invalidate_hard_deletes === true ? 'invalidate' : 'ignore';
  const hardDeletes = config.hard_deletes === undefined ? legacy : String(config.hard_deletes);
  if (!HARD_DELETES_MODES.includes(hardDeletes as HardDeletes)) {
    throw invalid('hard_deletes', `unknown hard_deletes '${hardDeletes}'`, didYouMean(hardDeletes, HARD_DELETES_MODES) ?? `use ${HARD_DELETES_MODES.join(', ')}`);
  }
  const names = config.snapshot_meta_column_names;
  const columnNames: Record<string, string> = { ...DEFAULT_COLUMN_NAMES };
  if (names !== undefined && names !== null) {
    if (typeof names !== 'object' || Array.isArray(names)) throw invalid('snapshot_meta_column_names', 'snapshot_meta_column_names must be a mapping', '{ dbt_valid_from: start_date, dbt_valid_to: end_date }');
    for (const [key, value] of Object.entries(names as Record<string, unknown>)) {
      if (!(key in DEFAULT_COLUMN_NAMES)) {
        throw invalid('snapshot_meta_column_names', `unknown snapshot meta column '${key}'`, didYouMean(key, Object.keys(DEFAULT_COLUMN_NAMES)) ?? `use ${Object.keys(DEFAULT_COLUMN_NAMES).join(', ')}`);
      }
      if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        throw invalid('snapshot_meta_column_names', `snapshot meta column '${key}' needs a column name`, `${key}: my_${key.replace(/^dbt_/, '')}`);
      }
      columnNames[key] = value;
    }
  }
  const validToCurrent = typeof config.dbt_valid_to_current === 'string' && config.dbt_valid_to_current.trim() ? config.dbt_valid_to_current.trim() : undefined;
  return {
    materialized: 'snapshot',
    strategy: strategy as SnapshotStrategy,
    uniqueKey,
    ...(updatedAt ? { updatedAt } : {}),
    checkCols,
    hardDeletes: hardDeletes as HardDeletes,
    columnNames: columnNames as unknown as SnapshotColumnNames,
    ...(validToCurrent ? { validToCurrent } : {}),
  };
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

/**
 * distributed_incremental's settings: append (the default), delete_insert with a unique_key, or
 * insert_overwrite with a partition_by (dbt-clickhouse's three). microbatch is incremental's only,
 * as in dbt-clickhouse (dbt runs batches for materialized='incremental' alone): its batch per
 * partition, each published on its own, would put a moment between shards and between batches
 * that the distributed kinds' one swap per run exists to avoid.
 */
function distributedIncrementalKindOf(config: NodeConfig, locate: ConfigKeyLocator): DistributedIncrementalKind {
  const invalid = (key: string, message: string, hint: string) => new KilnError('CONFIG_INVALID', message, { location: locate(key), hint });
  const text = config.incremental_strategy === undefined || config.incremental_strategy === null ? 'append' : String(config.incremental_strategy);
  const strategy = STRATEGY_ALIASES[text] ?? text;
  if (!DISTRIBUTED_INCREMENTAL_STRATEGIES.includes(strategy as DistributedIncrementalStrategy)) {
    const hint = strategy === 'microbatch'
      ? "use materialized='incremental' for microbatch (dbt-clickhouse has it for incremental only), or insert_overwrite with partition_by on the event time's day here"
      : didYouMean(text, DISTRIBUTED_INCREMENTAL_STRATEGIES) ?? `use ${DISTRIBUTED_INCREMENTAL_STRATEGIES.join(', ')}`;
    throw invalid('incremental_strategy', `incremental_strategy '${text}' is not available for distributed_incremental`, hint);
  }
  const uniqueKey = keyColumns(config.unique_key);
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
  return { materialized: 'distributed_incremental', strategy: strategy as DistributedIncrementalStrategy, uniqueKey, onSchemaChange: mode as OnSchemaChange };
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
