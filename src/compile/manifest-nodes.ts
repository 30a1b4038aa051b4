import { qualifiedName } from '../adapters/quoting.js';
import { sha256, uniquePairs } from '../project/checksums.js';
import { sourceDatabase, type ModelNode, type SeedNode, type SourceNode } from '../project/nodes.js';
import type { ColumnSpec, NodeConfig } from '../project/types.js';
import type { ManifestColumn, ModelManifestNode, SeedManifestNode, SourceManifestNode } from './manifest.js';
import type { RenderedModel } from './render-models.js';

/** A model's or seed's place in the warehouse (see relation-naming.ts). */
export interface NodeRelation {
  readonly database: string;
  readonly alias: string;
}


// Field order is the manifest's key order on disk: keep it.

export function modelManifestNode(
  r: RenderedModel,
  packageName: string,
  rel: NodeRelation,
  compiled: { readonly code: string; readonly path: string },
  dependsOn: { readonly nodes: readonly string[]; readonly macros: readonly string[] },
): ModelManifestNode {
  const { node, config, output } = r;
  // One literal, no spread of shared fields: V8 copies a spread of this many fields on a slow
  // path that cost a 10k-model compile about a third of a second.
  return {
    unique_id: node.uniqueId,
    name: node.name,
    package_name: packageName,
    original_file_path: node.originalFilePath,
    path: node.originalFilePath,
    fqn: node.fqn,
    description: node.description,
    columns: columnsRecord(node.columns),
    tags: config.tags ?? [],
    meta: node.meta,
    config,
    patch_path: node.patch ? node.patch.file : null,
    resource_type: node.resourceType,
    database: rel.database,
    schema: rel.database,
    alias: rel.alias,
    relation_name: config.materialized === 'ephemeral' ? null : qualifiedName(rel.database, rel.alias),
    language: 'sql',
    raw_code: node.rawCode,
    compiled: true,
    compiled_code: compiled.code,
    compiled_path: compiled.path,
    checksum: { name: 'sha256', checksum: sha256(node.rawCode) },
    refs: uniqueNames(output.refs),
    sources: uniquePairs(output.sources),
    depends_on: dependsOn,
  };
}

export function seedManifestNode(seed: SeedNode, packageName: string, rel: NodeRelation, root: string): SeedManifestNode {
  return {
    ...baseFields(seed, packageName, seed.config),
    resource_type: 'seed',
    database: rel.database,
    schema: rel.database,
    alias: rel.alias,
    relation_name: qualifiedName(rel.database, rel.alias),
    root_path: root,
    checksum: { name: 'sha256', checksum: seed.checksum },
    depends_on: { nodes: [], macros: [] },
  };
}

export function sourceManifestNode(s: SourceNode, packageName: string, rawDatabase: string): SourceManifestNode {
  const database = sourceDatabase(s, rawDatabase);
  return {
    unique_id: s.uniqueId,
    resource_type: 'source',
    name: s.name,
    source_name: s.sourceName,
    identifier: s.identifier,
    database,
    schema: database,
    relation_name: qualifiedName(database, s.identifier),
    loader: s.loader ?? '',
    package_name: packageName,
    original_file_path: s.originalFilePath,
    path: s.originalFilePath,
    fqn: s.fqn,
    description: s.description,
    columns: columnsRecord(s.columns),
    tags: (s.config.tags as string[] | undefined) ?? [],
    meta: s.meta,
    config: s.config,
    patch_path: null,
    source_meta: redactSecrets(s.options) as Record<string, unknown>,
    freshness: s.options.freshness ?? null,
    loaded_at_field: typeof s.options.loaded_at_field === 'string' ? s.options.loaded_at_field : null,
  };
}

function baseFields(node: ModelNode | SeedNode, packageName: string, config: NodeConfig) {
  return {
    unique_id: node.uniqueId,
    name: node.name,
    package_name: packageName,
    original_file_path: node.originalFilePath,
    path: node.originalFilePath,
    fqn: node.fqn,
    description: node.description,
    columns: columnsRecord(node.columns),
    tags: (config.tags as string[] | undefined) ?? [],
    meta: node.meta,
    config,
    patch_path: node.patch ? `${node.patch.file}` : null,
  };
}

/** `ref()` names of a model, each once, in first-call order. */
function uniqueNames(refs: readonly string[]): Array<{ name: string }> {
  if (refs.length === 1) return [{ name: refs[0]! }];
  return [...new Set(refs)].map((name) => ({ name }));
}

function columnsRecord(columns: readonly ColumnSpec[]): Record<string, ManifestColumn> {
  return Object.fromEntries(
    columns.map((c) => [c.name, { name: c.name, description: c.description ?? '', data_type: c.data_type ?? null, meta: c.meta ?? {}, constraints: c.constraints ?? [] }]),
  );
}

const SECRET_KEY = /pass(word)?|secret|token|credential|api_?key/i;

/** Secrets never reach an artifact. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== '' && v !== null ? '***' : redactSecrets(v)]),
    );
  }
  return value;
}
