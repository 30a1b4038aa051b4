import type { DocsData, DocsNode } from '../docs-data.js';
import { walkGraph } from '../../graph/walk.js';
import type { LineageLayout } from '../lineage-layout.js';

/**
 * The lineage as the page walks it: nodes by index (the data's `p`/`c` are indices), so walks
 * over 10k nodes stay integer set operations. No DOM here, so unit tests can run it in Node.
 */
export interface PageGraph {
  readonly nodes: readonly DocsNode[];
  readonly layout: LineageLayout;
  readonly byId: ReadonlyMap<string, number>;
  /** Indices upstream of `i` within `depth` steps (all of them by default), `i` excluded. */
  ancestors(i: number, depth?: number): Set<number>;
  descendants(i: number, depth?: number): Set<number>;
}

export function pageGraph(data: Pick<DocsData, 'nodes' | 'layout'>): PageGraph {
  const nodes = data.nodes;
  return {
    nodes,
    layout: data.layout,
    byId: new Map(nodes.map((n, i) => [n.id, i])),
    ancestors: (i, depth = Infinity) => walkGraph(i, depth, (k) => nodes[k]!.p),
    descendants: (i, depth = Infinity) => walkGraph(i, depth, (k) => nodes[k]!.c),
  };
}
