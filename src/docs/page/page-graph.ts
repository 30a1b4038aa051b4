import type { DocsData, DocsNode } from '../docs-data.js';
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

function walk(start: number, depth: number, next: (k: number) => readonly number[]): Set<number> {
  const seen = new Set<number>();
  let frontier = [start];
  for (let d = 0; d < depth && frontier.length; d++) {
    const up: number[] = [];
    for (const i of frontier) {
      for (const j of next(i)) {
        if (!seen.has(j)) {
          seen.add(j);
          up.push(j);
        }
      }
    }
    frontier = up;
  }
  seen.delete(start);
  return seen;
}

export function pageGraph(data: Pick<DocsData, 'nodes' | 'layout'>): PageGraph {
  const nodes = data.nodes;
  return {
    nodes,
    layout: data.layout,
    byId: new Map(nodes.map((n, i) => [n.id, i])),
    ancestors: (i, depth = Infinity) => walk(i, depth, (k) => nodes[k]!.p),
    descendants: (i, depth = Infinity) => walk(i, depth, (k) => nodes[k]!.c),
  };
}
