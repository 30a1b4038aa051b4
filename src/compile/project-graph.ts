import type { Diagnostics } from '../diagnostics.js';
import { Dag } from '../graph/dag.js';

export interface GraphNode {
  readonly uniqueId: string;
  readonly dependsOn: readonly string[];
}

/** The DAG of models, seeds and sources; a cycle is reported with its path and the graph is still returned. */
export function buildGraph(nodes: readonly GraphNode[], fileOf: (id: string) => string, diagnostics: Diagnostics): Dag {
  const dag = new Dag(nodes);
  diagnostics.capture(() => dag.assertAcyclic(fileOf));
  return dag;
}

/** The manifest's parent_map and child_map: every node, sorted ids. */
export function adjacencyMaps(dag: Dag): { parentMap: Record<string, readonly string[]>; childMap: Record<string, readonly string[]> } {
  const parentMap: Record<string, readonly string[]> = {};
  const childMap: Record<string, readonly string[]> = {};
  for (const id of dag.nodeIds.sort()) {
    parentMap[id] = dag.parents(id).sort();
    childMap[id] = dag.children(id).sort();
  }
  return { parentMap, childMap };
}

/**
 * parent_map/child_map after a recompile that changed the dependencies of `moved`: the previous
 * maps with only those nodes and their old and new parents recomputed (same keys, same order).
 */
export function patchAdjacencyMaps(
  previous: { readonly parent_map: Readonly<Record<string, readonly string[]>>; readonly child_map: Readonly<Record<string, readonly string[]>> },
  before: Dag,
  after: Dag,
  moved: Iterable<string>,
): { parentMap: Record<string, readonly string[]>; childMap: Record<string, readonly string[]> } {
  const parentMap: Record<string, readonly string[]> = { ...previous.parent_map };
  const childMap: Record<string, readonly string[]> = { ...previous.child_map };
  const touched = new Set<string>();
  for (const id of moved) {
    touched.add(id);
    for (const p of before.parents(id)) touched.add(p);
    for (const p of after.parents(id)) touched.add(p);
  }
  for (const id of touched) {
    parentMap[id] = after.parents(id).sort();
    childMap[id] = after.children(id).sort();
  }
  return { parentMap, childMap };
}
