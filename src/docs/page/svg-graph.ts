import { h, s, statusClass } from './dom.js';
import { boundsOf, panZoom, positionsOf, type GraphView, type Point } from './pan-zoom.js';
import type { PageGraph } from './page-graph.js';

/** A readable graph: one SVG group per node, used up to a few thousand nodes. */
export function svgGraph(
  graph: PageGraph,
  wrap: HTMLElement,
  indices: readonly number[],
  positions: ReadonlyMap<number, Point> | null,
  onPick: (i: number | null) => void,
): GraphView {
  const { nodes: N, layout: L, byId } = graph;
  wrap.textContent = '';
  const pos = positionsOf(L, positions);
  const inSet = new Set(indices);
  const svg = s('svg');
  const root = s('g');
  const edges = s('g', { class: 'edges' });
  const nodes = s('g', { class: 'nodes' });
  const edgeEls: Array<[SVGPathElement, number, number]> = [];
  const nodeEls = new Map<number, SVGGElement>();
  const edgePath = (a: Point, b: Point, ia: number, ib: number) => {
    const x1 = a[0] + L.w[ia]! / 2;
    const y1 = a[1];
    const x2 = b[0] - L.w[ib]! / 2;
    const y2 = b[1];
    const mx = (x1 + x2) / 2;
    return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
  };
  for (const i of indices) {
    for (const p of N[i]!.p) {
      if (!inSet.has(p)) continue;
      // A materialized view's edge is live (rows flow on every insert): drawn dashed.
      const e = s('path', { class: N[i]!.mv.includes(p) ? 'edge mv' : 'edge', d: edgePath(pos(p), pos(i), p, i), 'data-from': N[p]!.id, 'data-to': N[i]!.id });
      edgeEls.push([e, p, i]);
      edges.append(e);
    }
  }
  for (const i of indices) {
    const n = N[i]!;
    const p = pos(i);
    const w = L.w[i]!;
    const g = s('g', { class: `node ${statusClass(n)}`, transform: `translate(${p[0] - w / 2},${p[1] - L.h / 2})`, 'data-id': n.id, 'data-type': n.type });
    g.append(s('rect', { class: 'box', width: w, height: L.h }));
    const kind = n.type === 'source' ? '#0e9384' : n.type === 'seed' ? '#7a5af8' : /dashboards\//.test(n.path) ? '#e04f16' : '#2b59c3';
    g.append(s('rect', { class: 'kind', width: 5, height: L.h - 2, x: 1, y: 1, fill: kind }));
    const t = s('text', { x: 12, y: L.h / 2 });
    t.textContent = n.label.length > 34 ? `${n.label.slice(0, 33)}…` : n.label;
    g.append(t);
    const title = s('title');
    title.textContent = `${n.label} (${n.type}${n.materialized ? `, ${n.materialized}` : ''}) — ${n.status || 'not run'}`;
    g.append(title);
    nodeEls.set(i, g);
    nodes.append(g);
  }
  root.append(edges, nodes);
  svg.append(root);
  wrap.append(svg, h('div', { class: 'hint', text: 'scroll to zoom · drag to pan · click a node' }));
  const pz = panZoom(wrap, boundsOf(L, indices, pos), (t) => root.setAttribute('transform', `translate(${t.x},${t.y}) scale(${t.k})`));
  function highlight(i: number | null) {
    const up = i === null ? new Set<number>() : graph.ancestors(i);
    const down = i === null ? new Set<number>() : graph.descendants(i);
    svg.classList.toggle('has-hl', i !== null);
    nodeEls.forEach((g, j) => {
      g.classList.toggle('hl-sel', j === i);
      g.classList.toggle('hl-up', up.has(j));
      g.classList.toggle('hl-down', down.has(j));
    });
    for (const [e, a, b] of edgeEls) {
      e.classList.toggle('hl-up', up.has(a) && (b === i || up.has(b)));
      e.classList.toggle('hl-down', down.has(b) && (a === i || down.has(a)));
    }
  }
  const nodeAt = (target: EventTarget | null) => (target instanceof Element ? target.closest('g.node') : null);
  svg.addEventListener('click', (e) => {
    if (pz.wasDrag()) return;
    const g = nodeAt(e.target);
    const i = g ? byId.get(g.getAttribute('data-id')!) : null;
    if (i === null || i === undefined) {
      svg.classList.remove('has-hl');
      nodeEls.forEach((el) => el.classList.remove('hl-sel', 'hl-up', 'hl-down'));
      onPick(null);
      return;
    }
    highlight(i);
    onPick(i);
  });
  svg.addEventListener('dblclick', (e) => {
    const g = nodeAt(e.target);
    if (g) location.hash = `#/node/${encodeURIComponent(g.getAttribute('data-id')!)}`;
  });
  return {
    kind: 'svg',
    highlight: (i) => {
      highlight(i);
      onPick(i);
    },
  };
}
