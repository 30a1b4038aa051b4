import type { Catalog, CatalogEntry } from './catalog.js';
import type { ChartSpec, ResultColumn } from './chart-spec.js';
import type { ArtifactNode, ArtifactResult, ManifestArtifact, RunResultsArtifact } from './docs-artifacts.js';
import type { LoadSummary } from './ledger-summary.js';
import type { LineageLayout } from './lineage-layout.js';

/**
 * The data the docs page is drawn from, embedded in it as JSON. Built by a pure function of the
 * artifacts (manifest, run results, catalog) and what was captured from the warehouse, so the
 * page logic stays in the browser and this stays testable.
 */

export interface DocsTestRef {
  readonly id: string;
  readonly name: string;
  /** The test's kind (not_null, accepted_values, singular, unit): what a column's badge says. */
  readonly test_name: string;
  readonly status: string | null;
}

export interface DocsColumn {
  readonly name: string;
  readonly type: string | null;
  readonly description: string;
  readonly tests: readonly DocsTestRef[];
}

export interface DocsNode {
  readonly id: string;
  readonly name: string;
  /** Shown in the graph: `source.table` for sources, else the name. */
  readonly label: string;
  readonly type: string;
  readonly path: string;
  readonly materialized: string | null;
  readonly tags: readonly string[];
  readonly fqn: readonly string[];
  readonly source_name: string | null;
  readonly description: string;
  readonly relation: string | null;
  readonly columns: readonly DocsColumn[];
  readonly config: Readonly<Record<string, unknown>>;
  readonly raw_code: string | null;
  readonly compiled_code: string | null;
  readonly compiled_path: string | null;
  /** Indices into `nodes` (lineage nodes only: tests are listed on their own page). */
  readonly p: readonly number[];
  readonly c: readonly number[];
  /** Parents (of `p`) whose inserts reach this node through a materialized view: live edges. */
  readonly mv: readonly number[];
  /** Names of the node's materialized views (materialized_view models). */
  readonly views: readonly string[];
  readonly status: string | null;
  readonly time: number | null;
  readonly rows: number | null;
  readonly message: string | null;
  readonly stats: { readonly rows: number | null; readonly bytes: number | null } | null;
  readonly tests: readonly DocsTestRef[];
}

export interface DocsTest {
  readonly id: string;
  readonly name: string;
  readonly type: 'test' | 'unit_test';
  readonly test_name: string | null;
  /** The model, seed or source it tests (unique id), null for singular tests. */
  readonly attached: string | null;
  readonly column: string | null;
  readonly severity: string | null;
  readonly path: string;
  readonly sql: string | null;
  readonly status: string | null;
  readonly failures: number | null;
  readonly message: string | null;
  readonly time: number | null;
}

export interface DocsSource {
  readonly id: string;
  readonly source_name: string;
  readonly name: string;
  readonly loader: string | null;
  readonly relation: string | null;
  readonly description: string;
  readonly freshness: unknown;
  readonly loaded_at_field: string | null;
  readonly rows: number | null;
  readonly bytes: number | null;
  readonly load: LoadSummary | null;
  readonly quarantined: number | null;
}

export interface TimelineBar {
  readonly id: string;
  readonly name: string;
  readonly thread: string;
  /** Milliseconds since the first start. */
  readonly start: number;
  readonly end: number;
  readonly status: string;
}

export interface DashboardCapture {
  readonly id: string;
  readonly columns: readonly ResultColumn[];
  readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>>;
  readonly chart: ChartSpec | null;
  readonly error: string | null;
}

export interface DocsDashboard extends DashboardCapture {
  readonly name: string;
  readonly description: string;
}

export interface DocsData {
  readonly project: string;
  readonly target: string | null;
  readonly generated_at: string;
  readonly run: { readonly generated_at: string | null; readonly which: string | null; readonly elapsed: number | null } | null;
  readonly catalog: { readonly available: boolean; readonly message: string | null };
  readonly nodes: readonly DocsNode[];
  readonly layout: LineageLayout;
  readonly tests: readonly DocsTest[];
  readonly sources: readonly DocsSource[];
  readonly timeline: readonly TimelineBar[];
  readonly dashboards: readonly DocsDashboard[];
  readonly warnings: readonly string[];
  /** Whether the page was sent by `kiln docs serve` (it then polls for regenerations). */
  readonly served: boolean;
}

export interface DocsInputs {
  readonly manifest: ManifestArtifact;
  readonly runResults: RunResultsArtifact | null;
  /** How each node last ended, over every command (last_results.json): statuses of nodes the last command did not run. */
  readonly lastResults?: Readonly<Record<string, ArtifactResult>> | null;
  readonly catalog: Catalog | null;
  readonly catalogMessage?: string | null;
  readonly loads?: ReadonlyMap<string, LoadSummary> | null;
  readonly quarantined?: ReadonlyMap<string, number> | null;
  readonly dashboards?: readonly DashboardCapture[];
  readonly warnings?: readonly string[];
  readonly generatedAt: string;
  readonly served?: boolean;
}

const TEST_TYPES = new Set(['test', 'unit_test']);

/** Lineage nodes (models, seeds, sources, snapshots…) in a stable order, with parent indices. */
export function lineageGraph(manifest: ManifestArtifact): { nodes: ArtifactNode[]; parents: number[][]; labels: string[] } {
  const nodes = [...Object.values(manifest.sources ?? {}), ...Object.values(manifest.nodes).filter((n) => !TEST_TYPES.has(n.resource_type))];
  const index = new Map(nodes.map((n, i) => [n.unique_id, i]));
  const parents = nodes.map((n) => [...new Set(n.depends_on?.nodes ?? [])].map((id) => index.get(id)).filter((i): i is number => i !== undefined));
  return { nodes, parents, labels: nodes.map(labelOf) };
}

/** The nodes whose inserts a materialized_view model's views read, each once. */
function feeders(n: ArtifactNode): string[] {
  return [...new Set((n.materialized_views ?? []).flatMap((v) => v.depends_on?.nodes ?? []))];
}

export function labelOf(n: ArtifactNode): string {
  return n.resource_type === 'source' && n.source_name ? `${n.source_name}.${n.name}` : n.name;
}

/** Where a test points: dbt's attached_node, else the first model/seed/source it depends on. */
function attachedOf(t: ArtifactNode, lineage: ReadonlySet<string>): string | null {
  if (t.attached_node) return t.attached_node;
  if (t.resource_type === 'unit_test') return (t.depends_on?.nodes ?? []).find((id) => lineage.has(id)) ?? null;
  if (t.test_metadata) return (t.depends_on?.nodes ?? []).find((id) => lineage.has(id)) ?? null;
  return null;
}

export function timelineOf(results: readonly ArtifactResult[], names: ReadonlyMap<string, string>): TimelineBar[] {
  const spans = results.flatMap((r) => {
    const t = r.timing?.find((x) => x.name === 'execute') ?? r.timing?.[0];
    const start = t?.started_at ? Date.parse(t.started_at) : NaN;
    const end = t?.completed_at ? Date.parse(t.completed_at) : NaN;
    return Number.isFinite(start) && Number.isFinite(end) ? [{ r, start, end }] : [];
  });
  const t0 = Math.min(...spans.map((s) => s.start));
  return spans
    .map(({ r, start, end }) => ({
      id: r.unique_id,
      name: names.get(r.unique_id) ?? r.unique_id.split('.').slice(2).join('.'),
      thread: r.thread_id ?? 'main',
      start: start - t0,
      end: Math.max(end, start) - t0,
      status: r.status,
    }))
    .sort((a, b) => a.thread.localeCompare(b.thread, 'en', { numeric: true }) || a.start - b.start);
}

function statsOf(entry: CatalogEntry | undefined): DocsNode['stats'] {
  if (!entry) return null;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  return { rows: num(entry.stats.num_rows?.value), bytes: num(entry.stats.num_bytes?.value) };
}

export function buildDocsData(input: DocsInputs, layout: LineageLayout): DocsData {
  const { manifest, runResults, catalog } = input;
  // The last command's result of a node, else the last result any command had for it.
  const results = new Map<string, ArtifactResult>(Object.entries(input.lastResults ?? {}));
  for (const r of runResults?.results ?? []) results.set(r.unique_id, r);
  const { nodes: lineage, parents } = lineageGraph(manifest);
  const lineageIds = new Set(lineage.map((n) => n.unique_id));
  const children: number[][] = lineage.map(() => []);
  parents.forEach((ps, i) => ps.forEach((p) => children[p]!.push(i)));

  const testNodes = [...Object.values(manifest.nodes).filter((n) => TEST_TYPES.has(n.resource_type)), ...Object.values(manifest.unit_tests ?? {})];
  const tests: DocsTest[] = testNodes.map((t) => {
    const r = results.get(t.unique_id);
    return {
      id: t.unique_id,
      name: t.name,
      type: t.resource_type === 'unit_test' ? 'unit_test' : 'test',
      test_name: t.test_metadata?.name ?? (t.resource_type === 'unit_test' ? 'unit' : 'singular'),
      attached: attachedOf(t, lineageIds),
      column: t.column_name ?? (typeof t.test_metadata?.kwargs?.column_name === 'string' ? t.test_metadata.kwargs.column_name : null),
      severity: typeof t.config?.severity === 'string' ? t.config.severity : null,
      path: t.original_file_path ?? '',
      sql: t.compiled_code ?? null,
      status: r?.status ?? null,
      failures: r?.failures ?? null,
      message: r?.message ?? null,
      time: r?.execution_time ?? null,
    };
  });
  const testsOf = new Map<string, DocsTest[]>();
  for (const t of tests) if (t.attached) testsOf.set(t.attached, [...(testsOf.get(t.attached) ?? []), t]);
  const ref = (t: DocsTest): DocsTestRef => ({ id: t.id, name: t.name, test_name: t.test_name ?? 'test', status: t.status });

  const nodes: DocsNode[] = lineage.map((n, i) => {
    const r = results.get(n.unique_id);
    const entry = n.resource_type === 'source' ? catalog?.sources[n.unique_id] : catalog?.nodes[n.unique_id];
    const attached = testsOf.get(n.unique_id) ?? [];
    // Documented columns first (in YAML order), then the ones only the warehouse knows.
    const names = [...Object.keys(n.columns ?? {}), ...Object.values(entry?.columns ?? {}).sort((a, b) => a.index - b.index).map((c) => c.name)];
    const columns = [...new Set(names)].map((name) => ({
      name,
      type: entry?.columns[name]?.type ?? n.columns?.[name]?.data_type ?? null,
      description: n.columns?.[name]?.description ?? '',
      tests: attached.filter((t) => t.column === name).map(ref),
    }));
    const materialized = n.resource_type === 'seed' ? 'seed' : typeof n.config?.materialized === 'string' ? n.config.materialized : null;
    return {
      id: n.unique_id,
      name: n.name,
      label: labelOf(n),
      type: n.resource_type,
      path: n.original_file_path ?? '',
      materialized,
      tags: n.tags ?? [],
      fqn: n.fqn ?? [],
      source_name: n.source_name ?? null,
      description: n.description ?? '',
      relation: n.relation_name ?? null,
      columns,
      config: n.config ?? {},
      raw_code: n.raw_code ?? null,
      compiled_code: n.compiled_code ?? null,
      compiled_path: n.compiled_path ?? null,
      p: parents[i]!,
      mv: feeders(n).flatMap((id) => parents[i]!.filter((j) => lineage[j]!.unique_id === id)),
      views: (n.materialized_views ?? []).map((v) => v.name),
      c: children[i]!,
      status: r?.status ?? null,
      time: r?.execution_time ?? null,
      rows: r?.rows_affected ?? null,
      message: r?.message ?? null,
      stats: statsOf(entry),
      tests: attached.map(ref),
    };
  });

  const sources: DocsSource[] = Object.values(manifest.sources ?? {}).map((s) => {
    const stats = statsOf(catalog?.sources[s.unique_id]);
    const key = `${s.source_name ?? ''}.${s.name}`;
    return {
      id: s.unique_id,
      source_name: s.source_name ?? '',
      name: s.name,
      loader: s.loader ?? null,
      relation: s.relation_name ?? null,
      description: s.description ?? '',
      freshness: s.freshness ?? null,
      loaded_at_field: s.loaded_at_field ?? null,
      rows: stats?.rows ?? null,
      bytes: stats?.bytes ?? null,
      load: input.loads?.get(key) ?? null,
      quarantined: input.quarantined ? (input.quarantined.get(key) ?? 0) : null,
    };
  });

  const names = new Map([...lineage.map((n) => [n.unique_id, labelOf(n)] as const), ...testNodes.map((t) => [t.unique_id, t.name] as const)]);
  const byId = new Map(lineage.map((n) => [n.unique_id, n]));
  const dashboards: DocsDashboard[] = (input.dashboards ?? []).map((d) => ({
    ...d,
    name: byId.get(d.id)?.name ?? d.id,
    description: byId.get(d.id)?.description ?? '',
  }));

  return {
    project: manifest.metadata.project_name ?? 'kiln project',
    target: manifest.metadata.target_name ?? null,
    generated_at: input.generatedAt,
    run: runResults
      ? {
          generated_at: runResults.metadata?.generated_at ?? null,
          which: typeof runResults.args?.which === 'string' ? runResults.args.which : null,
          elapsed: runResults.elapsed_time ?? null,
        }
      : null,
    catalog: { available: catalog !== null, message: input.catalogMessage ?? null },
    nodes,
    layout,
    tests,
    sources,
    timeline: runResults ? timelineOf(runResults.results, names) : [],
    dashboards,
    warnings: input.warnings ?? [],
    served: input.served === true,
  };
}

/** Dashboard models: every model under a `dashboards/` folder of a model path. */
export function dashboardModels(manifest: ManifestArtifact): ArtifactNode[] {
  return Object.values(manifest.nodes)
    .filter((n) => n.resource_type === 'model' && /(^|\/)dashboards\//.test(n.original_file_path ?? ''))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The chart override a dashboard model's YAML gives (`meta: { chart: … }`, or under config.meta). */
export function chartMetaOf(n: ArtifactNode): unknown {
  const meta = (n.meta ?? {}) as Record<string, unknown>;
  const configMeta = ((n.config?.meta as Record<string, unknown> | undefined) ?? {}) as Record<string, unknown>;
  return meta.chart ?? configMeta.chart;
}
