import { badge, fmtBytes, fmtNum, fmtSecs, h, nodeLink } from './dom.js';
import type { PageContext } from './page-context.js';
import { columnsTable, testsTable } from './tables.js';

/** `#/node/<unique id>`: everything known about one node. */
export function nodePage(ctx: PageContext, id: string): void {
  const { data, graph, main } = ctx;
  const i = graph.byId.get(id);
  if (i === undefined) {
    main.append(h('div', { class: 'empty', text: `No node ${id}` }));
    return;
  }
  const n = graph.nodes[i]!;
  const kv: Array<[string, string | number]> = [
    ['unique id', n.id],
    ['file', n.path],
    ['relation', n.relation || '(none)'],
    ['materialized', n.materialized || ''],
    ['last status', n.status || 'not run yet'],
    ['execution time', fmtSecs(n.time)],
    ['rows affected', fmtNum(n.rows)],
  ];
  if (n.stats) kv.push(['rows in warehouse', fmtNum(n.stats.rows)], ['size', fmtBytes(n.stats.bytes)]);
  if (n.message) kv.push(['message', n.message]);
  if (n.views.length) {
    const fed = n.mv.map((j) => graph.nodes[j]!.label).join(', ');
    kv.push(['materialized views', `${n.views.join(', ')}${fed ? ` (fed by inserts into ${fed})` : ''}`]);
  }
  const list = (ids: readonly number[]) =>
    ids.length
      ? h('ul', {}, ids.map((j) => h('li', {}, [nodeLink(graph, graph.nodes[j]!.id), ' ', badge(graph.nodes[j]!.status)])))
      : h('p', { class: 'muted', text: 'none' });
  const tests = data.tests.filter((t) => t.attached === n.id);
  main.append(
    h('h1', { text: n.label }),
    h('div', {}, [badge(n.status), ' ', h('span', { class: 'muted', text: n.type }), ' ', ...n.tags.map((t) => h('span', { class: 'tag', text: t }))]),
    n.description ? h('p', { text: n.description }) : h('p', { class: 'muted', text: 'No description.' }),
    h('dl', { class: 'kv' }, kv.flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: String(v) })])),
    h('h2', { text: 'Columns' }),
    columnsTable(ctx, n),
    h('h2', { text: 'Upstream' }),
    list(n.p),
    h('h2', { text: 'Downstream' }),
    list(n.c),
    h('h2', { text: 'Tests' }),
    tests.length ? testsTable(ctx, tests) : h('p', { class: 'muted', text: 'No tests on this node.' }),
    h('h2', { text: 'Config' }),
    h('pre', { class: 'code', text: JSON.stringify(n.config, null, 2) }),
  );
  if (n.compiled_code !== null) {
    main.append(h('h2', { text: `Compiled SQL${n.compiled_path ? ` — ${n.compiled_path}` : ''}` }), h('pre', { class: 'code', id: 'compiled-sql', text: n.compiled_code }));
  }
  if (n.raw_code !== null) main.append(h('h2', { text: `Source — ${n.path}` }), h('pre', { class: 'code', text: n.raw_code }));
}
