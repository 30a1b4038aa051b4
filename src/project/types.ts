/** Typed, validated project configuration: what `project/` hands to the rest of the pipeline. */

import type { SourceLocation } from '../errors.js';

/** The values `materialized:` takes. */
export type Materialized = 'view' | 'table' | 'incremental' | 'ephemeral' | 'seed' | 'snapshot' | 'materialized_view' | 'distributed_table' | 'distributed_incremental';
export const MATERIALIZED_VALUES: readonly Materialized[] = [
  'view', 'table', 'incremental', 'ephemeral', 'seed', 'snapshot', 'materialized_view', 'distributed_table', 'distributed_incremental',
];

/**
 * Node config as written by users (project folder configs, properties YAML, `config()` calls),
 * with dbt's snake_case names. Unknown keys are kept (they land in the manifest, as in dbt).
 */
export interface NodeConfig {
  readonly materialized?: Materialized;
  readonly enabled?: boolean;
  readonly tags?: readonly string[];
  readonly database?: string;
  readonly schema?: string;
  readonly alias?: string;
  readonly engine?: string;
  readonly order_by?: string | readonly string[];
  readonly partition_by?: string | readonly string[];
  readonly primary_key?: string | readonly string[];
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  readonly ttl?: string;
  readonly pre_hook?: readonly string[];
  readonly post_hook?: readonly string[];
  readonly incremental_strategy?: 'append' | 'insert_overwrite' | 'delete_insert';
  readonly unique_key?: string | readonly string[];
  readonly on_schema_change?: 'fail' | 'append_new_columns' | 'ignore';
  readonly column_types?: Readonly<Record<string, string>>;
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface ColumnSpec {
  readonly name: string;
  readonly description?: string;
  readonly data_type?: string;
  /** Raw test entries as written (`unique`, `{ accepted_values: {...} }`); interpreted by testing/. */
  readonly data_tests: readonly unknown[];
  readonly meta?: Readonly<Record<string, unknown>>;
  /** `quote:` as written: true, the name is always an identifier in test SQL; false, an expression. */
  readonly quote?: boolean;
  /** `constraints:` entries as written (`{type: not_null}`, `{type: check, expression: …}`); validated at compile. */
  readonly constraints?: readonly unknown[];
  /** dbt-clickhouse's column `codec:` ("Delta, ZSTD") and `ttl:` (an expression). */
  readonly codec?: string;
  readonly ttl?: string;
}

export type EngineKind = 'embedded' | 'clickhouse';

/** One entry of `targets:` with its strings rendered (env_var resolved). */
export interface TargetConfig {
  readonly name: string;
  readonly engine: EngineKind;
  /** embedded: data folder, absolute. */
  readonly path?: string;
  /** clickhouse: http(s) URL. */
  readonly url?: string;
  readonly username?: string;
  readonly password?: string;
  readonly database: string;
  readonly raw_database: string;
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  readonly threads?: number;
  /** A cluster of the server's `remote_servers`: structure statements run ON CLUSTER it. */
  readonly cluster?: string;
  /**
   * MergeTree tables kiln creates are Replicated (default: true with a cluster). `true` without
   * a cluster: the server replicates by itself (ClickHouse Cloud's SharedMergeTree): no ON
   * CLUSTER, engines as written.
   */
  readonly replicated?: boolean;
  /** ZooKeeper path pattern of Replicated tables (see DEFAULT_ZOOKEEPER_PATH in adapters/ddl.ts). */
  readonly zookeeper_path?: string;
  /** Replica name pattern of Replicated tables (see DEFAULT_REPLICA_NAME). */
  readonly replica_name?: string;
  /** Default sharding key of Distributed tables. */
  readonly sharding_key?: string;
}

/** Folder-level config tree: `models: { staging: { materialized: view } }`. */
export interface FolderConfig {
  readonly config: NodeConfig;
  readonly children: ReadonlyMap<string, FolderConfig>;
  /** Where in project.yml this folder's key is. */
  readonly location?: SourceLocation;
}

export interface ProjectConfig {
  readonly name: string;
  readonly version: string | number;
  readonly modelPaths: readonly string[];
  /** Where `{% snapshot %}` files and snapshot properties live (`snapshot-paths`, default `snapshots`). */
  readonly snapshotPaths: readonly string[];
  readonly seedPaths: readonly string[];
  readonly macroPaths: readonly string[];
  readonly testPaths: readonly string[];
  /** Where `{% docs %}` blocks (.md files) are read; dbt's default is every resource path. */
  readonly docsPaths: readonly string[];
  readonly targetPath: string;
  readonly vars: Readonly<Record<string, unknown>>;
  readonly models: FolderConfig;
  readonly seeds: FolderConfig;
  readonly snapshots: FolderConfig;
  readonly tests: FolderConfig;
  readonly defaultTarget: string;
  /** Targets as written; only the selected one is rendered (so prod's env vars are not needed on dev). */
  readonly rawTargets: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** dbt_project.yml's `profile:`: the profiles.yml entry whose outputs are targets when there is no `targets:`. */
  readonly profile?: string;
  /** `strict:` in project.yml, when set: unknown keys are errors (true) or warnings even in CI (false). */
  readonly strict?: boolean;
  /** `dispatch:`: where adapter.dispatch looks, per macro namespace. */
  readonly dispatch?: ReadonlyArray<{ readonly macro_namespace: string; readonly search_order: readonly string[] }>;
}
