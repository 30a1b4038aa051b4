import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetConfig } from '../project/types.js';
import { LAST_RESULTS_FILE, readLastResults, writeJson } from '../report/run-results.js';
import type { Catalog } from './catalog.js';
import { buildDocsData, lineageGraph, type DocsData } from './docs-data.js';
import { readManifestArtifact, readRunResultsArtifact } from './docs-artifacts.js';
import { LAYOUT_VERSION, layoutLineage, type LineageLayout } from './lineage-layout.js';
import { renderSiteHtml } from './site-html.js';
import { captureWarehouse, type WarehouseCapture } from './warehouse-capture.js';

export interface SiteOptions {
  /** Absolute `target/` folder holding manifest.json (and run_results.json after a run). */
  readonly targetDir: string;
  /** The warehouse to read the catalog and dashboards from; null skips it. */
  readonly target: TargetConfig | null;
  readonly kilnVersion: string;
  readonly served?: boolean;
  /** Reuse an earlier capture instead of opening the warehouse (docs serve, after a compile). */
  readonly reuseCapture?: WarehouseCapture;
}

export interface SiteOutcome {
  readonly capture: WarehouseCapture;
  readonly indexFile: string;
  readonly catalogFile: string | null;
  readonly data: DocsData;
  readonly warnings: readonly string[];
  readonly timings: Readonly<Record<string, number>>;
}

/** Layouts by graph shape, so regenerating an unchanged graph (docs serve) skips the layout. */
function cachedLayout(dir: string, labels: readonly string[], parents: ReadonlyArray<readonly number[]>): LineageLayout {
  const key = createHash('sha256').update(JSON.stringify([LAYOUT_VERSION, labels, parents])).digest('hex');
  const file = join(dir, 'layout-cache.json');
  if (existsSync(file)) {
    try {
      const cached = JSON.parse(readFileSync(file, 'utf8')) as { key: string; layout: LineageLayout };
      if (cached.key === key) return cached.layout;
    } catch {
      // A torn or old cache is recomputed.
    }
  }
  const layout = layoutLineage({ labels, parents });
  writeFileSync(file, JSON.stringify({ key, layout }));
  return layout;
}

/** The previous catalog.json, for when the warehouse cannot be read right now (e.g. a run holds it). */
function previousCatalog(file: string): Catalog | null {
  try {
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Catalog) : null;
  } catch {
    return null;
  }
}

/** Reads the artifacts in `target/`, captures the warehouse, writes catalog.json and docs/index.html. */
export async function generateSite(opts: SiteOptions): Promise<SiteOutcome> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = now - t;
    t = now;
  };
  const generatedAt = new Date().toISOString();
  const manifest = readManifestArtifact(opts.targetDir);
  const runResults = readRunResultsArtifact(opts.targetDir);
  const lastResults = readLastResults(join(opts.targetDir, LAST_RESULTS_FILE))?.results ?? null;
  lap('read');
  const catalogFile = join(opts.targetDir, 'catalog.json');
  let capture: WarehouseCapture = { catalog: null, catalogMessage: 'no warehouse target', loads: null, quarantined: null, dashboards: [], warnings: [] };
  if (opts.reuseCapture) capture = opts.reuseCapture;
  else if (opts.target) capture = await captureWarehouse(opts.target, manifest, { kilnVersion: opts.kilnVersion, generatedAt });
  let catalog = capture.catalog;
  let catalogMessage = capture.catalogMessage;
  if (catalog) writeJson(catalogFile, catalog);
  else {
    const previous = previousCatalog(catalogFile);
    if (previous) {
      catalog = previous;
      catalogMessage = `${catalogMessage ?? 'catalog not read'}; showing the catalog of ${previous.metadata?.generated_at ?? 'an earlier generate'}`;
    }
  }
  lap('warehouse');
  const docsDir = join(opts.targetDir, 'docs');
  mkdirSync(docsDir, { recursive: true });
  const graph = lineageGraph(manifest);
  const layout = cachedLayout(docsDir, graph.labels, graph.parents);
  lap('layout');
  const data = buildDocsData(
    {
      manifest,
      runResults,
      lastResults,
      catalog,
      catalogMessage,
      loads: capture.loads,
      quarantined: capture.quarantined,
      dashboards: capture.dashboards,
      warnings: capture.warnings,
      generatedAt,
      served: opts.served === true,
    },
    layout,
  );
  const indexFile = join(docsDir, 'index.html');
  writeFileSync(indexFile, renderSiteHtml(data));
  lap('write');
  return { capture, indexFile, catalogFile: capture.catalog ? catalogFile : null, data, warnings: capture.warnings, timings };
}
