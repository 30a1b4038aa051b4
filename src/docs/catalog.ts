import type { CatalogColumnRow, CatalogTableRow } from '../adapters/catalog-sql.js';
import type { ArtifactNode, ManifestArtifact } from './docs-artifacts.js';

/** `target/catalog.json`, dbt's catalog shape: per relation its columns, types and stats. */

export interface CatalogStat {
  readonly id: string;
  readonly label: string;
  readonly value: number | boolean | string | null;
  readonly include: boolean;
  readonly description: string;
}

export interface CatalogEntry {
  readonly metadata: { readonly type: string; readonly schema: string; readonly name: string; readonly database: string; readonly comment: string | null; readonly owner: string | null };
  readonly columns: Readonly<Record<string, { readonly type: string; readonly index: number; readonly name: string; readonly comment: string | null }>>;
  readonly stats: Readonly<Record<string, CatalogStat>>;
  readonly unique_id: string;
}

export interface Catalog {
  readonly metadata: { readonly dbt_schema_version: string; readonly kiln_version: string; readonly generated_at: string; readonly invocation_id: string | null; readonly env: Record<string, string> };
  readonly nodes: Readonly<Record<string, CatalogEntry>>;
  readonly sources: Readonly<Record<string, CatalogEntry>>;
  readonly errors: readonly string[] | null;
}

/** The warehouse relation a manifest node lives in, or null (ephemeral models, tests). */
export function relationOf(node: ArtifactNode): { database: string; name: string } | null {
  if (!node.database) return null;
  if (node.resource_type === 'source') return node.identifier ? { database: node.database, name: node.identifier } : null;
  if (node.resource_type !== 'model' && node.resource_type !== 'seed' && node.resource_type !== 'snapshot') return null;
  if (node.config?.materialized === 'ephemeral' || !node.relation_name) return null;
  return { database: node.database, name: node.alias ?? node.name };
}

/** Databases the catalog reads: every database a model, seed or source lives in. */
export function catalogDatabases(manifest: ManifestArtifact): string[] {
  const out = new Set<string>();
  for (const n of [...Object.values(manifest.nodes), ...Object.values(manifest.sources ?? {})]) {
    const rel = relationOf(n);
    if (rel) out.add(rel.database);
  }
  return [...out].sort();
}

export function buildCatalog(
  manifest: ManifestArtifact,
  rows: { readonly tables: readonly CatalogTableRow[]; readonly columns: readonly CatalogColumnRow[] },
  meta: { kilnVersion: string; generatedAt: string },
): Catalog {
  const tables = new Map(rows.tables.map((t) => [`${t.database}.${t.name}`, t]));
  const columns = new Map<string, CatalogColumnRow[]>();
  for (const c of rows.columns) {
    const key = `${c.database}.${c.table}`;
    const list = columns.get(key) ?? [];
    list.push(c);
    columns.set(key, list);
  }
  const entry = (node: ArtifactNode): CatalogEntry | null => {
    const rel = relationOf(node);
    const table = rel && tables.get(`${rel.database}.${rel.name}`);
    if (!rel || !table) return null;
    const cols: Record<string, CatalogEntry['columns'][string]> = {};
    for (const c of columns.get(`${rel.database}.${rel.name}`) ?? []) cols[c.name] = { type: c.type, index: c.index, name: c.name, comment: c.comment || null };
    const isView = /View$/.test(table.engine);
    const stats: Record<string, CatalogStat> = {};
    if (!isView && table.total_rows !== null) stats.num_rows = { id: 'num_rows', label: '# Rows', value: table.total_rows, include: true, description: 'Rows in the table (system.tables.total_rows)' };
    if (!isView && table.total_bytes !== null) stats.num_bytes = { id: 'num_bytes', label: 'Approximate Size', value: table.total_bytes, include: true, description: 'Bytes on disk (system.tables.total_bytes)' };
    stats.has_stats = { id: 'has_stats', label: 'Has Stats?', value: Object.keys(stats).length > 0, include: false, description: 'Indicates whether there are statistics for this table' };
    return {
      metadata: { type: isView ? 'view' : 'table', schema: rel.database, name: rel.name, database: rel.database, comment: table.comment || null, owner: null },
      columns: cols,
      stats,
      unique_id: node.unique_id,
    };
  };
  const nodes: Record<string, CatalogEntry> = {};
  for (const n of Object.values(manifest.nodes)) {
    const e = entry(n);
    if (e) nodes[n.unique_id] = e;
  }
  const sources: Record<string, CatalogEntry> = {};
  for (const s of Object.values(manifest.sources ?? {})) {
    const e = entry(s);
    if (e) sources[s.unique_id] = e;
  }
  return {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/catalog/v1.json',
      kiln_version: meta.kilnVersion,
      generated_at: meta.generatedAt,
      invocation_id: manifest.metadata.invocation_id ?? null,
      env: {},
    },
    nodes,
    sources,
    errors: null,
  };
}
