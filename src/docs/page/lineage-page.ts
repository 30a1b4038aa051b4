import { graphlib, layout } from '@dagrejs/dagre';
import { KilnError } from '../../errors.js';
import { badge, h } from './dom.js';
import { canvasGraph } from './canvas-graph.js';
import type { Point } from './pan-zoom.js';
import type { PageContext } from './page-context.js';
import type { PageGraph } from './page-graph.js';
import { svgGraph } from './svg-graph.js';
import { columnsTable } from './tables.js';

/** Above this many nodes the graph is drawn on a canvas. */
const SVG_LIMIT = 1500;
/** The most nodes a neighbourhood shows, and the largest selection laid out afresh with dagre. */
const NEIGHBOURHOOD_LIMIT = 250;

/** `i` and its ancestors and descendants within `depth` steps, nearest first, capped. */
function neighbourhood(graph: PageGraph, i: number, depth: number): number[] {
  const out = [i];
  const seen = new Set([i]);
  const add = (set: ReadonlySet<number>) => {
    for (const j of set) {
      if (!seen.has(j) && out.length < NEIGHBOURHOOD_LIMIT) {
        seen.add(j);
        out.push(j);
      }
    }
  };
  for (let d = 1; d <= depth; d++) {
    add(graph.ancestors(i, d));
    add(graph.descendants(i, d));
  }
  return out;
}

/** A fresh, compact dagre layout of a subset (the cached layout places the whole graph). */
function dagreLayout(graph: PageGraph, indices: readonly number[]): Map<number, Point> {
  const { nodes: N, layout: L } = graph;
  const g = new graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const inSet = new Set(indices);
  for (const i of indices) g.setNode(String(i), { width: L.w[i], height: L.h });
  for (const i of indices) for (const p of N[i]!.p) if (inSet.has(p)) g.setEdge(String(p), String(i));
  layout(g);
  const pos = new Map<number, Point>();
  for (const i of indices) {
    const n = g.node(String(i));
    pos.set(i, [n.x, n.y]);
  }
  return pos;
}

/** The side panel for a picked node: status, actions, counts, columns. */
function showDetail(ctx: PageContext, panel: HTMLElement, i: number, actions: { focus(): void; select(expression: string): void }): void {
  const { graph } = ctx;
  const n = graph.nodes[i]!;
  panel.hidden = false;
  panel.textContent = '';
  panel.append(
    h('h2', { text: n.label }),
    h('div', {}, [badge(n.status), ' ', h('span', { class: 'muted', text: n.type + (n.materialized ? ` · ${n.materialized}` : '') })]),
    h('div', { class: 'actions' }, [
      h('a', { href: `#/node/${encodeURIComponent(n.id)}`, text: 'Open node page' }),
      h('button', { text: 'Neighbourhood', onclick: actions.focus }),
      h('button', { text: `Select +${n.name}+`, onclick: () => actions.select(`+${n.type === 'source' ? `source:${n.label}` : n.name}+`) }),
    ]),
  );
  if (n.description) panel.append(h('p', { text: n.description }));
  panel.append(
    h('dl', { class: 'kv' }, [
      h('dt', { text: 'upstream' }),
      h('dd', { text: `${graph.ancestors(i).size} nodes` }),
      h('dt', { text: 'downstream' }),
      h('dd', { text: `${graph.descendants(i).size} nodes` }),
      h('dt', { text: 'path' }),
      h('dd', { text: n.path }),
    ]),
    h('h2', { text: 'Columns' }),
    columnsTable(ctx, n),
  );
}

const LEGEND: ReadonlyArray<readonly [string, string]> = [
  ['success', '#dcf3e5'],
  ['error', '#fbdada'],
  ['warn', '#fff0c2'],
  ['skipped', '#e6e8ec'],
  ['not run', '#fff'],
];

/** `#/lineage` (the default page): the graph, filtered with kiln's selection syntax. */
export function lineagePage(ctx: PageContext): void {
  const { graph, lineage, main } = ctx;
  const N = graph.nodes;
  const wrap = h('div', { class: 'canvas-wrap', id: 'graph' });
  const input = h('input', { type: 'text', id: 'select', placeholder: '--select  e.g. +fct_reviews  tag:daily  path:models/marts', value: lineage.select });
  const exclude = h('input', { type: 'text', id: 'exclude', placeholder: '--exclude', value: lineage.exclude, style: 'width:160px' });
  const err = h('span', { class: 'err', id: 'select-error' });
  const count = h('span', { class: 'count', id: 'node-count' });
  const detail = h('aside', { class: 'detail', id: 'detail', hidden: '' });
  const apply = () => {
    lineage.select = input.value.trim();
    lineage.exclude = exclude.value.trim();
    lineage.focus = null;
    draw();
  };
  const onEnter = (e: KeyboardEvent) => {
    if (e.key === 'Enter') apply();
  };
  input.addEventListener('keydown', onEnter);
  exclude.addEventListener('keydown', onEnter);
  const legend = h('span', { class: 'legend' }, LEGEND.map(([label, colour]) => h('span', {}, [h('i', { style: `background:${colour}` }), label])));
  const wholeGraph = () => {
    input.value = '';
    exclude.value = '';
    apply();
  };
  main.append(
    h('div', { class: 'lineage' }, [
      h('div', { class: 'stage' }, [
        h('div', { class: 'toolbar' }, [input, exclude, h('button', { id: 'apply', text: 'Select', onclick: apply }), h('button', { text: 'Whole graph', onclick: wholeGraph }), count, err, legend]),
        wrap,
      ]),
      detail,
    ]),
  );
  const all = () => N.map((_, i) => i);

  function draw() {
    err.textContent = '';
    let shown: number[];
    let positions: Map<number, Point> | null = null;
    let title: string;
    if (lineage.focus !== null) {
      shown = neighbourhood(graph, lineage.focus, lineage.depth);
      positions = dagreLayout(graph, shown);
      title = `neighbourhood of ${N[lineage.focus]!.label}`;
    } else {
      try {
        shown = lineage.select || lineage.exclude ? ctx.selectIndices(lineage.select, lineage.exclude) : all();
      } catch (e) {
        err.textContent = e instanceof KilnError && e.hint ? `${e.message} (${e.hint})` : e instanceof Error ? e.message : String(e);
        shown = all();
      }
      // A small selection gets a fresh, compact layout; a large one keeps the cached positions.
      if (shown.length < N.length && shown.length <= NEIGHBOURHOOD_LIMIT) positions = dagreLayout(graph, shown);
      title = shown.length === N.length ? 'whole graph' : 'selection';
    }
    count.textContent = `showing ${shown.length} of ${N.length} nodes (${title})`;
    const view = (shown.length > SVG_LIMIT ? canvasGraph : svgGraph)(graph, wrap, shown, positions, onPick);
    if (lineage.picked !== null && shown.includes(lineage.picked)) view.highlight(lineage.picked);
    else closeDetail();
  }
  function closeDetail() {
    detail.hidden = true;
    lineage.picked = null;
  }
  function onPick(i: number | null) {
    lineage.picked = i;
    if (i === null) {
      closeDetail();
      return;
    }
    showDetail(ctx, detail, i, {
      focus: () => {
        lineage.focus = i;
        draw();
      },
      // As if typed into the select box and applied.
      select: (expression) => {
        input.value = expression;
        apply();
      },
    });
  }
  draw();
}
