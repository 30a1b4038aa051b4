import type { PageGraph } from './page-graph.js';

/** Element builders and formatters the pages share; the page builds its DOM by hand (no framework to inline). */

type AttrValue = string | number | null | undefined | ((e: Event) => void);
/** `text` sets textContent, `on…` adds a listener, anything else is an attribute (null/undefined skipped). */
export type Attrs = Readonly<Record<string, AttrValue>>;
export type Child = Node | string | null | undefined;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, children: readonly Child[] = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v === null || v === undefined ? '' : String(v);
    else if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined) e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const SVGNS = 'http://www.w3.org/2000/svg';

export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string | number>> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

export function fmtNum(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : Number(v).toLocaleString('en');
}

export function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}

export function fmtSecs(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : v < 10 ? `${v.toFixed(2)}s` : `${v.toFixed(1)}s`;
}

export function badge(status: string | null): HTMLSpanElement {
  return h('span', { class: `badge ${status || 'none'}`, text: status || 'not run' });
}

export function statusClass(n: { readonly status: string | null }): string {
  return n.status || 'none';
}

export function nodeLink(graph: PageGraph, id: string): HTMLAnchorElement {
  const i = graph.byId.get(id);
  return h('a', { href: `#/node/${encodeURIComponent(id)}`, text: i === undefined ? id : graph.nodes[i]!.label });
}
