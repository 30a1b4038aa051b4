import { h, statusClass } from './dom.js';
import { boundsOf, panZoom, positionsOf, type GraphView, type Point, type Transform } from './pan-zoom.js';
import type { PageGraph } from './page-graph.js';

const FILL: Readonly<Record<string, string>> = { success: '#47b576', pass: '#47b576', error: '#d64545', fail: '#d64545', warn: '#e0a100', skipped: '#b7bfcc', none: '#ffffff' };

/** The dense overview: every node and edge on a canvas (thousands of SVG nodes would crawl); labels appear when zoomed in. */
export function canvasGraph(
  graph: PageGraph,
  wrap: HTMLElement,
  indices: readonly number[],
  positions: ReadonlyMap<number, Point> | null,
  onPick: (i: number | null) => void,
): GraphView {
  const { nodes: N, layout: L } = graph;
  wrap.textContent = '';
  const canvas = h('canvas', { id: 'overview' });
  wrap.append(canvas, h('div', { class: 'hint', text: `${indices.length} nodes: too dense to read whole · zoom in, or click a node for its neighbourhood` }));
  const ctx = canvas.getContext('2d')!;
  const pos = positionsOf(L, positions);
  const inSet = new Set(indices);
  let hl: { i: number; up: Set<number>; down: Set<number> } | null = null;
  let frame = 0;
  let current: Transform = { x: 0, y: 0, k: 1 };
  function render() {
    frame = 0;
    const t = current;
    const dpr = window.devicePixelRatio || 1;
    const W = wrap.clientWidth;
    const H = wrap.clientHeight;
    if (canvas.width !== W * dpr || canvas.height !== H * dpr) {
      canvas.width = W * dpr;
      canvas.height = H * dpr;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.setTransform(dpr * t.k, 0, 0, dpr * t.k, dpr * t.x, dpr * t.y);
    const x0 = -t.x / t.k;
    const y0 = -t.y / t.k;
    const x1 = (W - t.x) / t.k;
    const y1 = (H - t.y) / t.k;
    const visible = (p: Point, i: number) => p[0] + L.w[i]! / 2 >= x0 && p[0] - L.w[i]! / 2 <= x1 && p[1] + L.h >= y0 && p[1] - L.h <= y1;
    ctx.lineWidth = 1 / t.k;
    ctx.strokeStyle = hl ? 'rgba(120,130,150,0.05)' : 'rgba(120,130,150,0.18)';
    ctx.beginPath();
    for (const i of indices) {
      const b = pos(i);
      for (const p of N[i]!.p) {
        if (!inSet.has(p)) continue;
        const a = pos(p);
        // Only edges that can cross the viewport are stroked.
        if (Math.max(a[1], b[1]) < y0 || Math.min(a[1], b[1]) > y1 || b[0] < x0 || a[0] > x1) continue;
        ctx.moveTo(a[0] + L.w[p]! / 2, a[1]);
        ctx.lineTo(b[0] - L.w[i]! / 2, b[1]);
      }
    }
    ctx.stroke();
    if (hl) {
      const picked = hl;
      for (const [dir, colour] of [['up', '#2b59c3'], ['down', '#c2410c']] as const) {
        const set = picked[dir];
        ctx.strokeStyle = colour;
        ctx.lineWidth = 2 / t.k;
        ctx.beginPath();
        for (const j of set) {
          for (const k of dir === 'up' ? N[j]!.c : N[j]!.p) {
            if (!(k === picked.i || set.has(k)) || !inSet.has(k)) continue;
            const a = dir === 'up' ? j : k;
            const b = dir === 'up' ? k : j;
            ctx.moveTo(pos(a)[0] + L.w[a]! / 2, pos(a)[1]);
            ctx.lineTo(pos(b)[0] - L.w[b]! / 2, pos(b)[1]);
          }
        }
        ctx.stroke();
      }
    }
    const labels = t.k * L.h > 14;
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const i of indices) {
      const p = pos(i);
      if (!visible(p, i)) continue;
      const on = !hl || i === hl.i || hl.up.has(i) || hl.down.has(i);
      ctx.globalAlpha = on ? 1 : 0.2;
      ctx.fillStyle = FILL[statusClass(N[i]!)] || '#fff';
      ctx.fillRect(p[0] - L.w[i]! / 2, p[1] - L.h / 2, L.w[i]!, L.h);
      ctx.lineWidth = (hl && i === hl.i ? 3 : 1) / t.k;
      ctx.strokeStyle = hl && hl.up.has(i) ? '#2b59c3' : hl && hl.down.has(i) ? '#c2410c' : hl && i === hl.i ? '#111' : '#7a8599';
      ctx.strokeRect(p[0] - L.w[i]! / 2, p[1] - L.h / 2, L.w[i]!, L.h);
      if (labels) {
        ctx.fillStyle = '#1d2330';
        ctx.fillText(N[i]!.label.slice(0, 34), p[0] - L.w[i]! / 2 + 8, p[1]);
      }
    }
    ctx.globalAlpha = 1;
  }
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };
  const pz = panZoom(wrap, boundsOf(L, indices, pos), (t) => {
    current = t;
    redraw();
  });
  function highlight(i: number | null) {
    hl = i === null ? null : { i, up: graph.ancestors(i), down: graph.descendants(i) };
    redraw();
  }
  canvas.addEventListener('click', (e) => {
    if (pz.wasDrag()) return;
    const r = canvas.getBoundingClientRect();
    const t = current;
    const x = (e.clientX - r.left - t.x) / t.k;
    const y = (e.clientY - r.top - t.y) / t.k;
    let hit: number | null = null;
    let best = Infinity;
    for (const i of indices) {
      const p = pos(i);
      const d = Math.max(0, Math.abs(x - p[0]) - L.w[i]! / 2) + Math.max(0, Math.abs(y - p[1]) - L.h / 2);
      if (d < best) {
        best = d;
        hit = i;
      }
    }
    // Farther than 8 screen pixels from every node is a click on empty space.
    if (best * t.k > 8) hit = null;
    highlight(hit);
    onPick(hit);
  });
  new ResizeObserver(redraw).observe(wrap);
  return {
    kind: 'canvas',
    highlight: (i) => {
      highlight(i);
      onPick(i);
    },
  };
}
