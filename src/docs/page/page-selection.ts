import { selectNodes, type SelectableNode, type SelectionGraph } from '../../graph/selector.js';
import type { PageGraph } from './page-graph.js';

/**
 * kiln's own selector (graph/selector.ts, bundled into the page) over the page's graph, so the
 * lineage filters with exactly the CLI's syntax. `result:` reads the statuses of the last run.
 */
export type SelectIndices = (select: string, exclude: string) => number[];

export function pageSelector(graph: PageGraph): SelectIndices {
  const { nodes, byId } = graph;
  const selectable: SelectableNode[] = nodes.map((n) => ({
    uniqueId: n.id,
    name: n.name,
    resourceType: n.type,
    originalFilePath: n.path,
    fqn: n.fqn,
    tags: n.tags,
    sourceName: n.source_name || undefined,
    config: n.config,
  }));
  const ids = (set: ReadonlySet<number>): Set<string> => new Set([...set].map((i) => nodes[i]!.id));
  // The page knows its nodes by index; the selector asks by unique id.
  const dag: SelectionGraph = {
    has: (id) => byId.has(id),
    ancestors: (id, depth) => ids(graph.ancestors(byId.get(id)!, depth)),
    descendants: (id, depth) => ids(graph.descendants(byId.get(id)!, depth)),
  };
  const results = new Map(nodes.filter((n) => n.status).map((n) => [n.id, n.status!]));
  /** Indices selected by a --select expression (and optional --exclude); throws a KilnError with a readable message. */
  return (select, exclude) => {
    const selected = selectNodes(selectable, dag, select ? [select] : undefined, exclude ? [exclude] : undefined, { results }, []);
    const out: number[] = [];
    for (const id of selected) {
      const i = byId.get(id);
      if (i !== undefined) out.push(i);
    }
    return out;
  };
}
