import { h } from './dom.js';
import type { PageContext } from './page-context.js';
import { testsTable } from './tables.js';

/** Failures first, then warnings, skips and passes; tests never run go last. */
const ORDER: Readonly<Record<string, number>> = { error: 0, fail: 1, warn: 2, skipped: 3, pass: 4, success: 4 };
const rank = (status: string | null): number => (status === null ? undefined : ORDER[status]) ?? 5;

/** `#/tests`: counts by status and every data and unit test. */
export function testsPage(ctx: PageContext): void {
  const { data, main } = ctx;
  main.append(h('h1', { text: 'Tests' }));
  if (!data.tests.length) {
    main.append(h('div', { class: 'empty', text: 'No data tests or unit tests in this project yet.' }));
    return;
  }
  const counts = new Map<string, number>();
  for (const t of data.tests) counts.set(t.status || 'not run', (counts.get(t.status || 'not run') ?? 0) + 1);
  main.append(h('div', { class: 'cards' }, [...counts].map(([k, n]) => h('div', { class: 'card' }, [h('b', { text: String(n) }), k]))));
  const sorted = [...data.tests].sort((a, b) => rank(a.status) - rank(b.status) || a.name.localeCompare(b.name));
  main.append(testsTable(ctx, sorted));
}
