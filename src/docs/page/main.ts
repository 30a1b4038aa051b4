import type { DocsData } from '../docs-data.js';
import { chartOf, dashboardsPage } from './dashboards-page.js';
import { lineagePage } from './lineage-page.js';
import { loadInlinedData } from './inlined-data.js';
import { nodePage } from './node-page.js';
import type { LineageState, PageContext } from './page-context.js';
import { pageGraph } from './page-graph.js';
import { pageSelector, type SelectIndices } from './page-selection.js';
import { drawShell } from './site-shell.js';
import { sourcesPage } from './sources-page.js';
import { testsPage } from './tests-page.js';
import { timelinePage } from './timeline-page.js';

/**
 * The docs page's entry: bundled with its libraries by scripts/bundle-docs.mjs into one script
 * that site-html.ts inlines into index.html next to the data.
 */

/** Hooks for the benchmark and the end-to-end test. */
export interface KilnDocsHooks {
  readonly data: DocsData;
  readonly selectIndices: SelectIndices;
  readonly chartOf: typeof chartOf;
}

declare global {
  interface Window {
    kilnDocs: KilnDocsHooks;
  }
}

function start(data: DocsData): void {
  const graph = pageGraph(data);
  const selectIndices = pageSelector(graph);
  window.kilnDocs = { data, selectIndices, chartOf };
  const { main, navLinks } = drawShell(document.getElementById('app')!, data);
  const lineage: LineageState = { select: '', exclude: '', focus: null, depth: 2, picked: null };
  let cleanups: Array<() => void> = [];
  const ctx: PageContext = { data, graph, selectIndices, lineage, main, onLeave: (cleanup) => cleanups.push(cleanup) };

  function route() {
    for (const cleanup of cleanups) cleanup();
    cleanups = [];
    const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
    const page = hash.split('/')[0] || 'lineage';
    navLinks.forEach((link, name) => link.classList.toggle('active', name === page || (page === 'node' && name === 'lineage')));
    main.textContent = '';
    main.className = page === 'lineage' ? 'graph-page' : 'page';
    if (page === 'node') nodePage(ctx, hash.slice(5));
    else if (page === 'sources') sourcesPage(ctx);
    else if (page === 'tests') testsPage(ctx);
    else if (page === 'timeline') timelinePage(ctx);
    else if (page === 'dashboards') dashboardsPage(ctx);
    else lineagePage(ctx);
  }
  window.addEventListener('hashchange', route);
  route();
  if (data.served && location.protocol.startsWith('http')) watchForRegeneration();
}

/** Under `kiln docs serve`: reload when the site is regenerated. */
function watchForRegeneration(): void {
  let seen: number | null = null;
  setInterval(() => {
    fetch('/__kiln/version', { cache: 'no-store' })
      .then((r) => r.json() as Promise<{ version: number }>)
      .then((v) => {
        if (seen !== null && v.version !== seen) location.reload();
        seen = v.version;
      })
      .catch(() => {
        // The server stopped; the page stays as it is.
      });
  }, 2000);
}

loadInlinedData().then(start, (e: unknown) => {
  document.getElementById('app')!.textContent = `kiln docs: cannot read the inlined data: ${e instanceof Error ? e.message : String(e)}`;
});
