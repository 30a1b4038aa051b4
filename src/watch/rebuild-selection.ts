import type { Dag } from '../graph/dag.js';
import { selectNodes, type SelectableNode, type SelectionState } from '../graph/selector.js';

export interface RebuildInput {
  readonly nodes: readonly SelectableNode[];
  readonly dag: Dag;
  /** Compared with the manifest of the previous build (null when the project did not change). */
  readonly state: SelectionState | null;
  /** Nodes whose own file changed although their checksum does not say so (seeds' CSVs). */
  readonly touched: ReadonlySet<string>;
  /** Sources with new or changed raw data files. */
  readonly sources: ReadonlySet<string>;
  /** Nodes that did not succeed last time: built again until they do. */
  readonly pending: ReadonlySet<string>;
  /** The user's --select/--exclude for the watch as a whole (undefined: everything). */
  readonly scope: ReadonlySet<string> | undefined;
}

/**
 * What a watch rebuild runs: the nodes that changed against the previous build's manifest
 * (`state:modified`), seeds and sources whose files changed, and whatever failed last time —
 * each with everything downstream, and the tests of all of them. Pure.
 */
export function rebuildSelection(input: RebuildInput): Set<string> {
  const roots = new Set<string>([...input.touched, ...input.sources, ...input.pending]);
  if (input.state) for (const id of selectNodes(input.nodes, input.dag, ['state:modified'], undefined, input.state)) roots.add(id);
  const out = new Set<string>();
  for (const id of roots) {
    if (!input.nodes.some((n) => n.uniqueId === id)) continue;
    out.add(id);
    if (input.dag.has(id)) for (const d of input.dag.descendants(id)) out.add(d);
  }
  // Tests follow the nodes they read.
  for (const n of input.nodes) if (n.attachedTo?.some((t) => out.has(t))) out.add(n.uniqueId);
  return input.scope ? new Set([...out].filter((id) => input.scope!.has(id))) : out;
}
