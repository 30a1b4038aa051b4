import { fmtBytes, fmtNum, h, nodeLink } from './dom.js';
import type { PageContext } from './page-context.js';

/** `#/sources`: each declared source with its warehouse size and what `kiln stage` loaded into it. */
export function sourcesPage(ctx: PageContext): void {
  const { data, graph, main } = ctx;
  main.append(h('h1', { text: 'Sources' }));
  if (!data.sources.length) {
    main.append(h('div', { class: 'empty', text: 'No sources declared in sources.yml.' }));
    return;
  }
  const hasLedger = data.sources.some((x) => x.load);
  const hasQuarantine = data.sources.some((x) => x.quarantined !== null);
  if (!hasLedger) main.append(h('p', { class: 'muted', text: 'No load ledger in the raw database yet: files, loads and rejects appear after `kiln stage`.' }));
  const head = ['Source', 'Table', 'Loader', 'Relation', 'Rows', 'Size', 'Files loaded', 'Rows loaded', 'Rejected', 'Last load', 'Freshness'];
  main.append(
    h('table', { class: 'grid', id: 'sources' }, [
      h('thead', {}, [h('tr', {}, head.map((t) => h('th', { text: t })))]),
      h(
        'tbody',
        {},
        data.sources.map((x) => {
          const rejected = x.load ? x.load.rejected : hasQuarantine ? x.quarantined : null;
          return h('tr', {}, [
            h('td', { text: x.source_name }),
            h('td', {}, [nodeLink(graph, x.id)]),
            h('td', { text: x.loader || '' }),
            h('td', {}, [h('code', { text: x.relation || '' })]),
            h('td', { class: 'num', text: fmtNum(x.rows) }),
            h('td', { class: 'num', text: fmtBytes(x.bytes) }),
            h('td', { class: 'num', text: x.load ? fmtNum(x.load.files) : '' }),
            h('td', { class: 'num', text: x.load ? fmtNum(x.load.rows) : '' }),
            h('td', { class: 'num', text: fmtNum(rejected) }),
            h('td', { text: x.load ? (x.load.last_load || '') + (x.load.last_status ? ` (${x.load.last_status})` : '') : '' }),
            h('td', { text: x.freshness ? JSON.stringify(x.freshness) + (x.loaded_at_field ? ` on ${x.loaded_at_field}` : '') : '' }),
          ]);
        }),
      ),
    ]),
  );
}
