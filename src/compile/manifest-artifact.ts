import type { Manifest } from './manifest.js';

/**
 * The manifest as dbt lays it out on disk: data tests among `nodes` and in the parent/child maps,
 * unit tests under `unit_tests`. In memory kiln keeps tests apart from the nodes it materializes.
 */
export function manifestArtifact(manifest: Manifest): Record<string, unknown> {
  const { tests, ...rest } = manifest;
  const parentMap: Record<string, string[]> = Object.fromEntries(Object.entries(manifest.parent_map).map(([k, v]) => [k, [...v]]));
  const childMap: Record<string, string[]> = Object.fromEntries(Object.entries(manifest.child_map).map(([k, v]) => [k, [...v]]));
  for (const test of [...Object.values(tests), ...Object.values(manifest.unit_tests)]) {
    parentMap[test.unique_id] = [...test.depends_on.nodes].sort();
    childMap[test.unique_id] = [];
    for (const parent of test.depends_on.nodes) (childMap[parent] ??= []).push(test.unique_id);
  }
  for (const list of Object.values(childMap)) list.sort();
  return { ...rest, nodes: { ...manifest.nodes, ...tests }, parent_map: parentMap, child_map: childMap };
}
