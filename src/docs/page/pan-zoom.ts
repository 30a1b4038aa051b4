import type { LineageLayout } from '../lineage-layout.js';

/** The view transform: translate (x, y), then scale by k. */
export interface Transform {
  x: number;
  y: number;
  k: number;
}

export interface Bounds {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export type Point = readonly [number, number];

/** What both graph renderers hand back to the lineage page. */
export interface GraphView {
  readonly kind: 'svg' | 'canvas';
  /** Highlights node `i` with its upstream and downstream (null clears) and reports the pick. */
  highlight(i: number | null): void;
}

/** Pan and zoom shared by both renderers: calls apply(t) on change; fits the bounds at first. */
export function panZoom(wrap: HTMLElement, bounds: Bounds, apply: (t: Transform) => void): { readonly t: Transform; fit(): void; wasDrag(): boolean } {
  const t: Transform = { x: 0, y: 0, k: 1 };
  function fit() {
    const W = wrap.clientWidth || 800;
    const H = wrap.clientHeight || 600;
    const k = Math.min(1.2, Math.min(W / (bounds.w + 40), H / (bounds.h + 40)));
    t.k = k;
    t.x = (W - bounds.w * k) / 2 - bounds.x * k;
    t.y = (H - bounds.h * k) / 2 - bounds.y * k;
    apply(t);
  }
  wrap.onwheel = (e) => {
    e.preventDefault();
    const r = wrap.getBoundingClientRect();
    const mx = e.clientX - r.left;
    const my = e.clientY - r.top;
    // Pinch gestures arrive as ctrl+wheel with small deltas: zoom faster for them.
    const f = Math.exp(-e.deltaY * (e.ctrlKey ? 0.01 : 0.0015));
    const k = Math.max(0.01, Math.min(4, t.k * f));
    t.x = mx - (mx - t.x) * (k / t.k);
    t.y = my - (my - t.y) * (k / t.k);
    t.k = k;
    apply(t);
  };
  let drag: { x: number; y: number; tx: number; ty: number; moved: boolean } | null = null;
  wrap.onpointerdown = (e) => {
    drag = { x: e.clientX, y: e.clientY, tx: t.x, ty: t.y, moved: false };
  };
  wrap.onpointermove = (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    // A few pixels of jitter is still a click.
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    drag.moved = true;
    wrap.classList.add('dragging');
    t.x = drag.tx + dx;
    t.y = drag.ty + dy;
    apply(t);
  };
  wrap.onpointerup = () => {
    wrap.classList.remove('dragging');
    // Cleared after the click that ends the drag has asked wasDrag().
    setTimeout(() => {
      drag = null;
    }, 0);
  };
  fit();
  return { t, fit, wasDrag: () => drag !== null && drag.moved };
}

/** The box around the given nodes at their positions. */
export function boundsOf(layout: LineageLayout, indices: readonly number[], pos: (i: number) => Point): Bounds {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const i of indices) {
    const p = pos(i);
    const w = layout.w[i]! / 2;
    x0 = Math.min(x0, p[0] - w);
    x1 = Math.max(x1, p[0] + w);
    y0 = Math.min(y0, p[1] - layout.h / 2);
    y1 = Math.max(y1, p[1] + layout.h / 2);
  }
  return indices.length ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : { x: 0, y: 0, w: 1, h: 1 };
}

/** Positions from a fresh layout of a subset, or else the cached whole-graph layout. */
export function positionsOf(layout: LineageLayout, positions: ReadonlyMap<number, Point> | null): (i: number) => Point {
  return (i) => (positions ? positions.get(i)! : [layout.x[i]!, layout.y[i]!]);
}
