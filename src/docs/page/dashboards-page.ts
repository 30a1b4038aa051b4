import { Chart, registerables, type ChartConfiguration } from 'chart.js';
import type { DocsDashboard } from '../docs-data.js';
import { h, nodeLink } from './dom.js';
import type { PageContext } from './page-context.js';

// Every chart type and plugin, as Chart.js's browser build registered them before it was bundled here.
Chart.register(...registerables);

const PALETTE = ['#2b59c3', '#e04f16', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#475467', '#65a30d', '#7c3aed', '#0d9488', '#b91c1c'];

type Row = DocsDashboard['rows'][number];
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The Chart.js config for a dashboard whose chart spec is a line or bar chart. */
export function chartConfig(d: DocsDashboard): ChartConfiguration<'line' | 'bar', Array<number | null>, string> {
  const c = d.chart!;
  const rows = d.rows;
  const x = c.x!;
  if (c.kind === 'line') {
    const xs = Array.from(new Set(rows.map((r) => String(r[x])))).sort();
    const line = (label: string, k: number, values: ReadonlyMap<string, number | null>) => ({
      label,
      data: xs.map((v) => (values.has(v) ? values.get(v)! : null)),
      borderColor: PALETTE[k % PALETTE.length],
      backgroundColor: PALETTE[k % PALETTE.length],
      spanGaps: true,
      tension: 0.2,
      pointRadius: 2,
    });
    const series = c.series;
    const datasets = series
      ? Array.from(new Set(rows.map((r) => String(r[series])))).map((g, k) =>
          line(g, k, new Map(rows.filter((r) => String(r[series]) === g).map((r) => [String(r[x]), num(r[c.y[0]!])]))),
        )
      : c.y.map((y, k) => line(y, k, new Map(rows.map((r) => [String(r[x]), num(r[y])]))));
    return {
      type: 'line',
      data: { labels: xs.map((v) => v.replace(/ 00:00:00$/, '')), datasets },
      options: { animation: false, maintainAspectRatio: false, interaction: { mode: 'index', intersect: false }, scales: { y: { beginAtZero: false } } },
    };
  }
  const top = [...rows].sort((a, b) => (num(b[c.y[0]!]) ?? 0) - (num(a[c.y[0]!]) ?? 0)).slice(0, 25);
  return {
    type: 'bar',
    data: {
      labels: top.map((r) => String(r[x])),
      datasets: c.y.map((y, k) => ({ label: y, data: top.map((r) => num(r[y])), backgroundColor: PALETTE[k % PALETTE.length] })),
    },
    options: { animation: false, maintainAspectRatio: false, indexAxis: 'y', plugins: { legend: { display: c.y.length > 1 } } },
  };
}

function cellText(v: unknown): string {
  return v === null ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function rowsTable(d: DocsDashboard): HTMLElement {
  const cols = d.columns.length ? d.columns.map((c) => c.name) : Object.keys(d.rows[0] || {});
  return h('table', { class: 'grid' }, [
    h('thead', {}, [h('tr', {}, cols.map((c) => h('th', { text: c })))]),
    h('tbody', {}, d.rows.slice(0, 50).map((r: Row) => h('tr', {}, cols.map((c) => h('td', { text: cellText(r[c]) }))))),
  ]);
}

/** The chart drawn on a canvas, if any: the end-to-end test reads what was plotted. */
export function chartOf(canvas: HTMLCanvasElement): Chart | undefined {
  return Chart.getChart(canvas);
}

/** `#/dashboards`: the rows captured from models under models/dashboards/, charted or tabled. */
export function dashboardsPage(ctx: PageContext): void {
  const { data, graph, main } = ctx;
  main.append(
    h('h1', { text: 'Dashboards' }),
    h('p', { class: 'muted', text: `Rows of the models under models/dashboards/, captured at ${data.generated_at.replace('T', ' ').slice(0, 19)} UTC.` }),
  );
  if (!data.dashboards.length) {
    main.append(h('div', { class: 'empty', text: 'No dashboard models: put models under models/dashboards/ to chart them here.' }));
    return;
  }
  const grid = h('div', { class: 'dash-grid' });
  main.append(grid);
  for (const d of data.dashboards) {
    const card = h('section', { class: 'dash', 'data-id': d.id, id: `dash-${d.name}` }, [h('h3', {}, [nodeLink(graph, d.id)]), d.description ? h('div', { class: 'muted', text: d.description }) : null]);
    grid.append(card);
    if (d.error) {
      card.append(h('div', { class: 'dash-error', text: d.error }));
      continue;
    }
    if (!d.rows.length) {
      card.append(h('div', { class: 'empty', text: 'The model returned no rows.' }));
      continue;
    }
    if (!d.chart || d.chart.kind === 'table' || !d.chart.x || !d.chart.y.length) {
      card.append(rowsTable(d));
      continue;
    }
    const canvas = h('canvas', { 'aria-label': `${d.name} chart` });
    const spec = d.chart;
    card.append(
      h('div', { class: 'chart-box' }, [canvas]),
      h('div', { class: 'muted', style: 'font-size:12px', text: `${spec.kind} chart of ${spec.y.join(', ')} by ${spec.x}${spec.series ? ` per ${spec.series}` : ''} · ${d.rows.length} rows` }),
    );
    try {
      const chart = new Chart(canvas, chartConfig(d));
      ctx.onLeave(() => chart.destroy());
    } catch (e) {
      card.append(h('div', { class: 'dash-error', text: `chart failed: ${e instanceof Error ? e.message : String(e)}` }));
    }
  }
}
