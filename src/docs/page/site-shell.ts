import type { DocsData } from '../docs-data.js';
import { h } from './dom.js';
import { fileTree } from './file-tree.js';

export type PageName = 'lineage' | 'sources' | 'tests' | 'timeline' | 'dashboards';

const NAV: ReadonlyArray<readonly [PageName, string]> = [
  ['lineage', 'Lineage'],
  ['sources', 'Sources'],
  ['tests', 'Tests'],
  ['timeline', 'Run timeline'],
  ['dashboards', 'Dashboards'],
];

/** One line about the last run: which command, when, and counts by status. */
function runSummary(data: DocsData): string {
  if (!data.run) return 'not run yet';
  const counts = new Map<string, number>();
  for (const n of [...data.nodes, ...data.tests]) if (n.status) counts.set(n.status, (counts.get(n.status) ?? 0) + 1);
  const when = (data.run.generated_at || '').replace('T', ' ').slice(0, 19);
  return `last ${data.run.which || 'run'} ${when} · ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ')}`;
}

/** Draws the header, navigation and notes into `app`; returns the element pages draw into and the nav links. */
export function drawShell(app: HTMLElement, data: DocsData): { main: HTMLElement; navLinks: ReadonlyMap<PageName, HTMLAnchorElement> } {
  app.textContent = '';
  const nav = h('nav');
  const navLinks = new Map<PageName, HTMLAnchorElement>();
  for (const [page, label] of NAV) {
    const link = h('a', { href: `#/${page}`, text: label, 'data-page': page });
    navLinks.set(page, link);
    nav.append(link);
  }
  app.append(
    h('header', { class: 'top' }, [
      h('span', { class: 'brand', text: data.project }, [h('small', { text: `kiln docs${data.target ? ` · ${data.target}` : ''}` })]),
      nav,
      h('span', { class: 'run', id: 'run-summary', text: runSummary(data) }),
    ]),
  );
  const notes: string[] = [];
  if (!data.run) notes.push('Not run yet: statuses, row counts and the run timeline appear after `kiln run` or `kiln build`.');
  if (data.catalog.message) notes.push(data.catalog.message);
  for (const w of data.warnings) if (!notes.includes(w)) notes.push(w);
  if (notes.length) app.append(h('div', { class: 'banner', id: 'banner', text: notes.join(' · ') }));
  const main = h('main');
  app.append(h('div', { class: 'body' }, [fileTree(data), main]));
  return { main, navLinks };
}
