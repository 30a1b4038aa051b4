import type { DocsNode, DocsTest } from '../docs-data.js';
import { badge, fmtNum, h, nodeLink } from './dom.js';
import type { PageContext } from './page-context.js';

/** The columns and tests tables, shown on the node page and in the lineage detail panel. */

export function columnsTable(ctx: PageContext, n: DocsNode): HTMLElement {
  if (!n.columns.length) {
    return h('p', { class: 'muted', text: ctx.data.catalog.available ? 'No columns documented or found in the warehouse.' : 'No documented columns (catalog not available).' });
  }
  return h('table', { class: 'grid columns' }, [
    h('thead', {}, [h('tr', {}, ['Column', 'Type', 'Description', 'Tests'].map((t) => h('th', { text: t })))]),
    h(
      'tbody',
      {},
      n.columns.map((c) =>
        h('tr', { 'data-column': c.name }, [
          h('td', {}, [h('code', { text: c.name })]),
          h('td', {}, [h('code', { text: c.type || '' })]),
          h('td', { text: c.description }),
          h('td', {}, c.tests.map((t) => h('span', { class: 'column-test', title: t.name }, [badge(t.status), ' ', t.test_name, ' ']))),
        ]),
      ),
    ),
  ]);
}

export function testsTable(ctx: PageContext, tests: readonly DocsTest[]): HTMLElement {
  return h('table', { class: 'grid tests' }, [
    h('thead', {}, [h('tr', {}, ['Status', 'Test', 'Kind', 'On', 'Severity', 'Failures', 'Message / query to reproduce'].map((t) => h('th', { text: t })))]),
    h(
      'tbody',
      {},
      tests.map((t) =>
        h('tr', { 'data-id': t.id }, [
          h('td', {}, [badge(t.status)]),
          h('td', { text: t.name }),
          h('td', { text: t.type === 'unit_test' ? 'unit' : t.test_name || '' }),
          h('td', {}, t.attached ? [nodeLink(ctx.graph, t.attached), t.column ? `.${t.column}` : ''] : []),
          h('td', { text: t.severity || '' }),
          h('td', { class: 'num', text: fmtNum(t.failures) }),
          h('td', {}, [
            t.message ? h('div', { text: t.message }) : null,
            t.sql ? h('details', { class: 'sql' }, [h('summary', { text: 'SQL' }), h('pre', { class: 'code', text: t.sql })]) : null,
          ]),
        ]),
      ),
    ),
  ]);
}
