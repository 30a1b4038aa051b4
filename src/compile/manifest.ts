import type { NodeConfig } from '../project/types.js';

/**
 * `target/manifest.json`: field names as in dbt's manifest so existing tooling can read it.
 * Everything here is serializable and computed without a database.
 */

export interface ManifestColumn {
  readonly name: string;
  readonly description: string;
  readonly data_type: string | null;
  readonly meta: Readonly<Record<string, unknown>>;
  /** dbt's column constraints, as written. */
  readonly constraints: readonly unknown[];
}

interface ManifestNodeBase {
  readonly unique_id: string;
  readonly name: string;
  readonly package_name: string;
  readonly original_file_path: string;
  readonly path: string;
  readonly fqn: readonly string[];
  readonly description: string;
  readonly columns: Readonly<Record<string, ManifestColumn>>;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, unknown>>;
  readonly config: NodeConfig;
  readonly depends_on: { readonly nodes: readonly string[]; readonly macros: readonly string[] };
  readonly patch_path: string | null;
}

/** What a node compiled from SQL carries: models and data tests. */
interface CompiledSqlFields {
  readonly language: 'sql';
  readonly raw_code: string;
  readonly compiled: true;
  readonly compiled_code: string;
  readonly compiled_path: string;
  readonly checksum: { readonly name: 'sha256'; readonly checksum: string };
  readonly refs: ReadonlyArray<{ readonly name: string }>;
  readonly sources: ReadonlyArray<readonly [string, string]>;
}

/** A model, or a snapshot (dbt's `snapshot` node: same fields). */
export interface ModelManifestNode extends ManifestNodeBase, CompiledSqlFields {
  readonly resource_type: 'model' | 'snapshot';
  readonly database: string;
  readonly schema: string;
  readonly alias: string;
  /** `` `db`.`name` ``; null for ephemeral models. */
  readonly relation_name: string | null;
  /** A materialized_view model's ClickHouse views into its table, each with the nodes whose inserts feed it. */
  readonly materialized_views?: ReadonlyArray<{ readonly name: string; readonly relation_name: string; readonly depends_on: { readonly nodes: readonly string[] } }>;
}

export interface SeedManifestNode extends ManifestNodeBase {
  readonly resource_type: 'seed';
  readonly database: string;
  readonly schema: string;
  readonly alias: string;
  readonly relation_name: string;
  readonly root_path: string;
  readonly checksum: { readonly name: 'sha256'; readonly checksum: string };
}

export interface SourceManifestNode extends Omit<ManifestNodeBase, 'depends_on'> {
  readonly resource_type: 'source';
  readonly source_name: string;
  readonly identifier: string;
  readonly database: string;
  readonly schema: string;
  readonly relation_name: string;
  readonly loader: string;
  /** Loader options with secrets (passwords, tokens) replaced by "***". */
  readonly source_meta: Readonly<Record<string, unknown>>;
  readonly freshness: unknown;
  readonly loaded_at_field: string | null;
}

export type ManifestNode = ModelManifestNode | SeedManifestNode;

/** A data test (generic or singular), dbt's `test` node. Held in `Manifest.tests`; written into `nodes`. */
export interface TestManifestNode extends ManifestNodeBase, CompiledSqlFields {
  readonly resource_type: 'test';
  /** Where failing rows go with store_failures: `<database>_test_failures`. */
  readonly database: string;
  readonly schema: string;
  /** The short (hashed when long) name: compiled file and store_failures table. */
  readonly alias: string;
  /** A query returning the failing rows (`where` applied, `limit` not). */
  readonly compiled_code: string;
  readonly column_name: string | null;
  /** The model, seed or source the test is declared on; null for singular tests. */
  readonly attached_node: string | null;
  readonly file_key_name: string | null;
  /** Generic tests only: which test macro with which arguments. */
  readonly test_metadata?: { readonly name: string; readonly kwargs: Readonly<Record<string, unknown>>; readonly namespace: string | null };
  /** `file:line` of the declaration (the YAML entry or the .sql file), for error lines and annotations. */
  readonly declared_at: { readonly file: string; readonly line: number | null };
}

/** A unit test, dbt's `unit_test` node (top-level `unit_tests` in the manifest). */
export interface UnitTestManifestNode {
  readonly unique_id: string;
  readonly resource_type: 'unit_test';
  readonly name: string;
  readonly model: string;
  readonly package_name: string;
  readonly original_file_path: string;
  readonly path: string;
  readonly fqn: readonly string[];
  readonly description: string;
  readonly tags: readonly string[];
  readonly config: NodeConfig;
  readonly depends_on: { readonly nodes: readonly string[]; readonly macros: readonly string[] };
  readonly given: ReadonlyArray<{ readonly input: string; readonly rows: unknown; readonly format: 'dict' | 'csv' }>;
  readonly expect: { readonly rows: unknown; readonly format: 'dict' | 'csv' };
  readonly overrides: { readonly vars: Readonly<Record<string, unknown>>; readonly is_incremental: boolean | null };
  readonly declared_at: { readonly file: string; readonly line: number | null };
  readonly checksum: { readonly name: 'sha256'; readonly checksum: string };
}

export interface Manifest {
  readonly metadata: {
    readonly dbt_schema_version: string;
    readonly kiln_version: string;
    readonly generated_at: string;
    readonly invocation_id: string;
    readonly project_name: string;
    readonly target_name: string;
    readonly adapter_type: string;
  };
  readonly nodes: Readonly<Record<string, ManifestNode>>;
  readonly sources: Readonly<Record<string, SourceManifestNode>>;
  /** Data tests; the artifact on disk lists them under `nodes`, as dbt does (see manifest-artifact.ts). */
  readonly tests: Readonly<Record<string, TestManifestNode>>;
  readonly unit_tests: Readonly<Record<string, UnitTestManifestNode>>;
  readonly macros: Readonly<Record<string, { readonly unique_id: string; readonly name: string; readonly original_file_path: string; readonly checksum: string }>>;
  readonly parent_map: Readonly<Record<string, readonly string[]>>;
  readonly child_map: Readonly<Record<string, readonly string[]>>;
}

export type AnyManifestNode = ManifestNode | SourceManifestNode;
