import dagre from '@dagrejs/dagre';

/**
 * Positions for the lineage graph, left to right, computed once at generate time and cached in
 * the page. dagre lays out graphs it can finish quickly; its cost grows with edges that skip
 * layers (each gets a dummy node per layer), so beyond a budget the overview is placed by layer
 * (longest path) with one barycentre sweep, and the page lays out neighbourhoods with dagre.
 */

export interface LayoutInput {
  readonly labels: readonly string[];
  /** Per node, the indices of its parents. */
  readonly parents: ReadonlyArray<readonly number[]>;
}

export interface LineageLayout {
  readonly mode: 'dagre' | 'layered';
  /** Node centres and sizes, by node index. */
  readonly x: number[];
  readonly y: number[];
  readonly w: number[];
  readonly h: number;
  readonly width: number;
  readonly height: number;
}

/** Part of the layout cache key: bump when the layout code changes. */
export const LAYOUT_VERSION = 2;
export const NODE_HEIGHT = 30;
/** dagre's work (nodes plus one dummy per skipped layer per edge) we accept at generate time. */
export const DAGRE_BUDGET = 1200;

export const nodeWidth = (label: string): number => Math.min(260, 28 + Math.round(label.length * 7.2));

/** Longest-path layer of every node (sources and roots at 0); tolerates cycles by ignoring back edges. */
export function layers(parents: ReadonlyArray<readonly number[]>): number[] {
  const n = parents.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  const indegree = new Array<number>(n).fill(0);
  parents.forEach((ps, i) => {
    for (const p of ps) {
      children[p]!.push(i);
      indegree[i]! += 1;
    }
  });
  const rank = new Array<number>(n).fill(0);
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    for (const c of children[i]!) {
      rank[c] = Math.max(rank[c]!, rank[i]! + 1);
      if (--indegree[c]! === 0) queue.push(c);
    }
  }
  return rank;
}

/** Nodes plus dummy nodes dagre would create: the measure of its cost. */
export function dagreWork(parents: ReadonlyArray<readonly number[]>, rank: readonly number[]): number {
  let work = parents.length;
  parents.forEach((ps, i) => {
    for (const p of ps) work += Math.max(0, rank[i]! - rank[p]! - 1);
  });
  return work;
}

export function layoutLineage(input: LayoutInput, budget = DAGRE_BUDGET): LineageLayout {
  const rank = layers(input.parents);
  return dagreWork(input.parents, rank) <= budget ? dagreLayout(input) : layeredLayout(input, rank);
}

function dagreLayout(input: LayoutInput): LineageLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const w = input.labels.map(nodeWidth);
  input.labels.forEach((_, i) => g.setNode(String(i), { width: w[i]!, height: NODE_HEIGHT }));
  input.parents.forEach((ps, i) => ps.forEach((p) => g.setEdge(String(p), String(i))));
  dagre.layout(g);
  const x: number[] = [];
  const y: number[] = [];
  input.labels.forEach((_, i) => {
    const n = g.node(String(i));
    x.push(Math.round(n.x));
    y.push(Math.round(n.y));
  });
  const graph = g.graph();
  return { mode: 'dagre', x, y, w, h: NODE_HEIGHT, width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0) };
}

function layeredLayout(input: LayoutInput, rank: readonly number[]): LineageLayout {
  const n = input.labels.length;
  const w = input.labels.map(nodeWidth);
  const byRank: number[][] = [];
  for (let i = 0; i < n; i++) (byRank[rank[i]!] ??= []).push(i);
  const colWidth = Math.max(...w, 0) + 80;
  const rowHeight = NODE_HEIGHT + 10;
  // A wide layer wraps into several columns, keeping the overview near 3:1 instead of a needle.
  const maxRows = Math.max(40, Math.ceil(Math.sqrt(3 * n)));
  const x = new Array<number>(n).fill(0);
  const y = new Array<number>(n).fill(0);
  let height = 0;
  let column = 0;
  byRank.forEach((layer = [], r) => {
    // Order each layer by the mean position of its parents, so edges run mostly straight.
    const key = (i: number) => {
      const ps = input.parents[i]!;
      return ps.length ? ps.reduce((sum, p) => sum + y[p]!, 0) / ps.length : i;
    };
    const ordered = r === 0 ? layer : layer.map((i) => [i, key(i)] as const).sort((a, b) => a[1] - b[1]).map(([i]) => i);
    const rows = Math.min(maxRows, ordered.length);
    ordered.forEach((i, k) => {
      x[i] = 20 + (column + Math.floor(k / rows)) * colWidth + colWidth / 2;
      y[i] = 20 + (k % rows) * rowHeight + rowHeight / 2;
    });
    column += Math.ceil(ordered.length / rows) || 0;
    height = Math.max(height, 40 + rows * rowHeight);
  });
  return { mode: 'layered', x, y, w, h: NODE_HEIGHT, width: 40 + column * colWidth, height };
}
