import type { Manifest } from './manifest.js';

/**
 * The manifest as dbt lays it out on disk: data tests among `nodes` and in the parent/child maps,
 * unit tests under `unit_tests`. In memory kiln keeps tests apart from the nodes it materializes.
 */
export function manifestArtifact(manifest: Manifest): Record<string, unknown> {
  const { tests, ...rest } = manifest;
  const testNodes = [...Object.values(tests), ...Object.values(manifest.unit_tests)];
  if (testNodes.length === 0) return rest;
  // Only the lists a test joins are copied; the manifest's own lists are already sorted.
  const parentMap: Record<string, readonly string[]> = { ...manifest.parent_map };
  const childMap: Record<string, readonly string[]> = { ...manifest.child_map };
  const grown = new Map<string, string[]>();
  for (const test of testNodes) {
    parentMap[test.unique_id] = [...test.depends_on.nodes].sort();
    childMap[test.unique_id] = [];
    for (const parent of test.depends_on.nodes) {
      let list = grown.get(parent);
      if (!list) grown.set(parent, (list = [...(childMap[parent] ?? [])]));
      list.push(test.unique_id);
      childMap[parent] = list;
    }
  }
  for (const list of grown.values()) list.sort();
  return { ...rest, nodes: { ...manifest.nodes, ...tests }, parent_map: parentMap, child_map: childMap };
}
