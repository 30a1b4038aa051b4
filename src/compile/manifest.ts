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

export interface ModelManifestNode extends ManifestNodeBase {
  readonly resource_type: 'model';
  readonly database: string;
  readonly schema: string;
  readonly alias: string;
  /** `` `db`.`name` ``; null for ephemeral models. */
  readonly relation_name: string | null;
  readonly language: 'sql';
  readonly raw_code: string;
  readonly compiled: true;
  readonly compiled_code: string;
  readonly compiled_path: string;
  readonly checksum: { readonly name: 'sha256'; readonly checksum: string };
  readonly refs: ReadonlyArray<{ readonly name: string }>;
  readonly sources: ReadonlyArray<readonly [string, string]>;
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
  readonly macros: Readonly<Record<string, { readonly unique_id: string; readonly name: string; readonly original_file_path: string; readonly checksum: string }>>;
  readonly parent_map: Readonly<Record<string, readonly string[]>>;
  readonly child_map: Readonly<Record<string, readonly string[]>>;
}

export type AnyManifestNode = ManifestNode | SourceManifestNode;
