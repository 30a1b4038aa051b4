import type { Relation } from '../adapters/ddl.js';
import type { Manifest } from '../compile/manifest.js';
import type { Dag } from '../graph/dag.js';
import { walkGraph } from '../graph/walk.js';

/** A materialized_view model built from a source table (directly or through other nodes), with its ClickHouse views. */
export interface FedModel {
  readonly uniqueId: string;
  readonly name: string;
  readonly views: readonly Relation[];
}

/**
 * The materialized_view models downstream of source `sourceId`: their tables hold what the
 * source's rows made of them, so a load that changes the source unseen by their views (a swap,
 * a replaced partition) must make them rebuild. An introspective model's views are only known
 * when it runs, so it is not listed.
 */
export function fedModelsOf(manifest: Manifest, dag: Dag, sourceId: string): FedModel[] {
  if (!dag.has(sourceId)) return [];
  const out: FedModel[] = [];
  for (const id of walkGraph(sourceId, Infinity, (n) => dag.children(n))) {
    const node = manifest.nodes[id];
    if (!node || node.resource_type !== 'model' || node.config.materialized !== 'materialized_view') continue;
    const views = (node.materialized_views ?? []).map((v) => ({ database: node.database, name: v.name }));
    if (views.length > 0) out.push({ uniqueId: id, name: node.name, views });
  }
  return out;
}
