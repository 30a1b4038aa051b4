import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../../src/docs/catalog.js';
import { chooseChart, inferColumns } from '../../src/docs/chart-spec.js';
import type { ArtifactNode, ManifestArtifact, RunResultsArtifact } from '../../src/docs/docs-artifacts.js';
import { buildDocsData, dashboardModels, lineageGraph, timelineOf } from '../../src/docs/docs-data.js';
import { summarizeLedger } from '../../src/docs/ledger-summary.js';
import { dagreWork, layers, layoutLineage } from '../../src/docs/lineage-layout.js';
import { dataElement } from '../../src/docs/site-html.js';

const model = (name: string, deps: string[], extra: Partial<ArtifactNode> = {}): ArtifactNode => ({
  unique_id: `model.p.${name}`,
  resource_type: 'model',
  name,
  original_file_path: `models/${extra.original_file_path ?? `marts/${name}.sql`}`,
  fqn: ['p', name],
  tags: [],
  config: { materialized: 'table' },
  depends_on: { nodes: deps },
  database: 'analytics',
  alias: name,
  relation_name: `\`analytics\`.\`${name}\``,
  raw_code: `select 1 -- ${name}`,
  compiled_code: `select 1 -- ${name}`,
  ...extra,
  ...(extra.original_file_path ? { original_file_path: extra.original_file_path } : {}),
});

const source: ArtifactNode = {
  unique_id: 'source.p.app.users',
  resource_type: 'source',
  name: 'users',
  source_name: 'app',
  original_file_path: 'sources.yml',
  fqn: ['p', 'app', 'users'],
  database: 'raw',
  identifier: 'app__users',
  relation_name: '`raw`.`app__users`',
  loader: 'mysql',
};

function manifest(extraNodes: ArtifactNode[] = []): ManifestArtifact {
  const nodes = [
    model('stg_users', ['source.p.app.users'], { config: { materialized: 'view', tags: ['daily'] }, tags: ['daily'], original_file_path: 'models/staging/stg_users.sql' }),
    model('dim_users', ['model.p.stg_users'], {
      description: 'One row per user.',
      columns: { user_id: { name: 'user_id', description: 'The key', data_type: null }, role: { name: 'role', description: 'Upper-case role' } },
    }),
    model('users_by_day', ['model.p.dim_users'], { original_file_path: 'models/dashboards/users_by_day.sql', meta: { chart: { type: 'bar' } } }),
    ...extraNodes,
  ];
  return {
    metadata: { project_name: 'p', target_name: 'dev' },
    nodes: Object.fromEntries(nodes.map((n) => [n.unique_id, n])),
    sources: { [source.unique_id]: source },
  };
}

const runResults: RunResultsArtifact = {
  metadata: { generated_at: '2025-01-01T00:00:10Z' },
  args: { which: 'build' },
  elapsed_time: 3,
  results: [
    { unique_id: 'model.p.stg_users', status: 'success', execution_time: 0.5, rows_affected: null, thread_id: 'Thread-1',
      timing: [{ name: 'execute', started_at: '2025-01-01T00:00:00.000Z', completed_at: '2025-01-01T00:00:00.500Z' }] },
    { unique_id: 'model.p.dim_users', status: 'error', execution_time: 1, rows_affected: null, message: 'boom', thread_id: 'Thread-2',
      timing: [{ name: 'execute', started_at: '2025-01-01T00:00:00.500Z', completed_at: '2025-01-01T00:00:01.500Z' }] },
    { unique_id: 'test.p.not_null_dim_users_user_id', status: 'fail', execution_time: 0.1, rows_affected: null, failures: 3, thread_id: 'Thread-1',
      timing: [{ name: 'execute', started_at: '2025-01-01T00:00:01.500Z', completed_at: '2025-01-01T00:00:01.600Z' }] },
  ],
};

const layout = (m: ManifestArtifact) => {
  const g = lineageGraph(m);
  return layoutLineage({ labels: g.labels, parents: g.parents });
};

describe('docs page data', () => {
  it('lists every lineage node with parents, children, statuses and merged columns', () => {
    const m = manifest();
    const catalog = buildCatalog(
      m,
      {
        tables: [{ database: 'analytics', name: 'dim_users', engine: 'MergeTree', comment: null, total_rows: 42, total_bytes: 2048 }],
        columns: [
          { database: 'analytics', table: 'dim_users', name: 'user_id', type: 'UInt32', comment: null, index: 1 },
          { database: 'analytics', table: 'dim_users', name: 'role', type: 'LowCardinality(String)', comment: null, index: 2 },
          { database: 'analytics', table: 'dim_users', name: 'is_active', type: 'UInt8', comment: null, index: 3 },
        ],
      },
      { kilnVersion: 't', generatedAt: 'now' },
    );
    expect(catalog.nodes['model.p.dim_users']!.stats.num_rows!.value).toBe(42);
    expect(catalog.nodes['model.p.dim_users']!.metadata.type).toBe('table');
    const data = buildDocsData({ manifest: m, runResults, catalog, generatedAt: 'now' }, layout(m));
    expect(data.nodes.map((n) => n.label)).toEqual(['app.users', 'stg_users', 'dim_users', 'users_by_day']);
    const dim = data.nodes[2]!;
    expect(dim.status).toBe('error');
    expect(dim.message).toBe('boom');
    expect(dim.p.map((i) => data.nodes[i]!.name)).toEqual(['stg_users']);
    expect(dim.c.map((i) => data.nodes[i]!.name)).toEqual(['users_by_day']);
    expect(dim.columns.map((c) => [c.name, c.type, c.description])).toEqual([
      ['user_id', 'UInt32', 'The key'],
      ['role', 'LowCardinality(String)', 'Upper-case role'],
      ['is_active', 'UInt8', ''],
    ]);
    expect(dim.stats).toEqual({ rows: 42, bytes: 2048 });
    expect(data.run?.which).toBe('build');
    expect(data.timeline.map((b) => [b.name, b.thread, b.start, b.end])).toEqual([
      ['stg_users', 'Thread-1', 0, 500],
      ['not_null_dim_users_user_id', 'Thread-1', 1500, 1600],
      ['dim_users', 'Thread-2', 500, 1500],
    ]);
  });

  it('says "not run yet" by having no run, no statuses and no timeline', () => {
    const m = manifest();
    const data = buildDocsData({ manifest: m, runResults: null, catalog: null, catalogMessage: 'warehouse not reachable', generatedAt: 'now' }, layout(m));
    expect(data.run).toBeNull();
    expect(data.timeline).toEqual([]);
    expect(data.nodes.every((n) => n.status === null)).toBe(true);
    expect(data.catalog).toEqual({ available: false, message: 'warehouse not reachable' });
    expect(data.tests).toEqual([]);
  });

  it('attaches data and unit tests to their node and column when the manifest has them', () => {
    const test: ArtifactNode = {
      unique_id: 'test.p.not_null_dim_users_user_id', resource_type: 'test', name: 'not_null_dim_users_user_id',
      original_file_path: 'models/marts/schema.yml', depends_on: { nodes: ['model.p.dim_users'] }, attached_node: 'model.p.dim_users',
      column_name: 'user_id', test_metadata: { name: 'not_null', kwargs: { column_name: 'user_id' } }, compiled_code: 'select * from x where user_id is null',
      config: { severity: 'error' },
    };
    const m = { ...manifest([test]), unit_tests: { 'unit_test.p.dim_users.t1': { unique_id: 'unit_test.p.dim_users.t1', resource_type: 'unit_test', name: 't1', depends_on: { nodes: ['model.p.dim_users'] } } } };
    const data = buildDocsData({ manifest: m, runResults, catalog: null, generatedAt: 'now' }, layout(m));
    expect(data.nodes.some((n) => n.type === 'test')).toBe(false);
    expect(data.tests.map((t) => [t.name, t.type, t.attached, t.column, t.status, t.failures])).toEqual([
      ['not_null_dim_users_user_id', 'test', 'model.p.dim_users', 'user_id', 'fail', 3],
      ['t1', 'unit_test', 'model.p.dim_users', null, null, null],
    ]);
    const dim = data.nodes.find((n) => n.name === 'dim_users')!;
    expect(dim.columns.find((c) => c.name === 'user_id')!.tests).toEqual([{ id: test.unique_id, name: test.name, test_name: 'not_null', status: 'fail' }]);
    expect(dim.tests).toHaveLength(2);
  });

  it('finds dashboard models under models/dashboards/ and keeps their capture or error', () => {
    const m = manifest();
    expect(dashboardModels(m).map((n) => n.name)).toEqual(['users_by_day']);
    const data = buildDocsData(
      { manifest: m, runResults: null, catalog: null, generatedAt: 'now', dashboards: [{ id: 'model.p.users_by_day', columns: [], rows: [], chart: null, error: 'Code: 395. boom' }] },
      layout(m),
    );
    expect(data.dashboards).toEqual([expect.objectContaining({ name: 'users_by_day', error: 'Code: 395. boom' })]);
  });

  it('timeline skips results without timings', () => {
    expect(timelineOf([{ unique_id: 'model.p.a', status: 'skipped', timing: [] }], new Map())).toEqual([]);
  });
});

describe('dashboard chart choice', () => {
  const rows = [
    { day: '2025-01-01', genre: 'drama', reviews: 3, content_id: 7 },
    { day: '2025-01-01', genre: 'comedy', reviews: 5, content_id: 8 },
    { day: '2025-01-02', genre: 'drama', reviews: 4, content_id: 7 },
  ];
  it('draws a time series as lines, one per value of a small text column', () => {
    const cols = [{ name: 'day', type: 'Date' }, { name: 'genre', type: 'LowCardinality(String)' }, { name: 'reviews', type: 'UInt64' }, { name: 'content_id', type: 'UInt32' }];
    expect(chooseChart(cols, rows)).toEqual({ kind: 'line', x: 'day', y: ['reviews'], series: 'genre', title: null });
  });
  it('draws a ranking as bars, ignoring id columns as measures', () => {
    const cols = [{ name: 'title', type: 'String' }, { name: 'content_id', type: 'UInt32' }, { name: 'reviews_count', type: 'UInt64' }];
    expect(chooseChart(cols, [{ title: 'A', content_id: 1, reviews_count: 10 }])).toMatchObject({ kind: 'bar', x: 'title', y: ['reviews_count'] });
  });
  it('lets meta.chart override the choice', () => {
    const cols = [{ name: 'day', type: 'Date' }, { name: 'n', type: 'Float64' }];
    expect(chooseChart(cols, [], { type: 'bar', y: ['n'] })).toMatchObject({ kind: 'bar', x: 'day', y: ['n'] });
    expect(chooseChart(cols, [], 'table').kind).toBe('table');
  });
  it('falls back to a table without numbers, and infers types from values when it must', () => {
    expect(chooseChart([{ name: 'a', type: 'String' }], [{ a: 'x' }]).kind).toBe('table');
    expect(inferColumns([{ d: '2025-01-01 00:00:00', n: 3, s: 'x', q: '12' }])).toEqual([
      { name: 'd', type: 'DateTime' }, { name: 'n', type: 'Float64' }, { name: 's', type: 'String' }, { name: 'q', type: 'Float64' },
    ]);
  });
});

describe('staged-load ledger summary', () => {
  it('sums files, rows and rejects per staged table and keeps the last load', () => {
    const s = summarizeLedger([
      { source_name: 'app', table_name: 'users', file: 'a.sql', rows: 10, rejected: 1, status: 'loaded', loaded_at: '2025-01-01 00:00:00' },
      { source_name: 'app', table_name: 'users', file: 'b.sql', rows: 5, rejected: 0, status: 'failed', loaded_at: '2025-01-02 00:00:00' },
      { source: 'events', table: 'app_events', path: 'x.jsonl', rows_loaded: '7' },
      { nothing: 'to attribute' },
    ]);
    expect(s.get('app.users')).toEqual({ files: 2, loads: 2, rows: 15, rejected: 1, last_load: '2025-01-02 00:00:00', last_status: 'failed' });
    expect(s.get('events.app_events')).toMatchObject({ files: 1, rows: 7 });
    expect(s.size).toBe(2);
  });
});

describe('lineage layout', () => {
  it('lays a small graph out left to right with dagre', () => {
    const l = layoutLineage({ labels: ['a', 'b', 'c'], parents: [[], [0], [1]] });
    expect(l.mode).toBe('dagre');
    expect(l.x[0]!).toBeLessThan(l.x[1]!);
    expect(l.x[1]!).toBeLessThan(l.x[2]!);
  });
  it('places a graph beyond the dagre budget by layer, every node positioned and finite', () => {
    let seed = 1;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const parents = Array.from({ length: 3000 }, (_, i) => (i ? [...new Set([Math.floor(rnd() * i), Math.floor(rnd() * i)])] : []));
    const rank = layers(parents);
    expect(dagreWork(parents, rank)).toBeGreaterThan(3000);
    const t0 = performance.now();
    const l = layoutLineage({ labels: parents.map((_, i) => `m_${i}`), parents });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(l.mode).toBe('layered');
    parents.forEach((ps, i) => ps.forEach((p) => expect(l.x[p]!).toBeLessThan(l.x[i]!)));
    expect(l.x.every(Number.isFinite) && l.y.every(Number.isFinite)).toBe(true);
  });
});

describe('the site html', () => {
  it('compresses large data', () => {
    const big = { nodes: Array.from({ length: 30000 }, (_, i) => ({ id: `model.p.m_${i}`, sql: 'select 1 </script>' })) } as never;
    expect(dataElement(big)).toMatch(/^<script type="application\/octet-stream" id="kiln-data" data-encoding="gzip-base64">[A-Za-z0-9+/=]+<\/script>$/);
    expect(dataElement({ nodes: [{ sql: '</script>' }] } as never)).not.toContain('</script><');
  });
});

describe('statuses over several commands', () => {
  it("takes the last command's result of a node, else the last result any command had for it", () => {
    const m = manifest();
    const lastResults = {
      'model.p.stg_users': { unique_id: 'model.p.stg_users', status: 'error' },
      'model.p.dim_users': { unique_id: 'model.p.dim_users', status: 'success', rows_affected: 7 },
    };
    const onlyStg: RunResultsArtifact = { ...runResults, results: runResults.results.filter((r) => r.unique_id === 'model.p.stg_users') };
    const data = buildDocsData({ manifest: m, runResults: onlyStg, lastResults, catalog: null, generatedAt: 'now' }, layout(m));
    const status = (name: string) => data.nodes.find((n) => n.name === name)!.status;
    expect(status('stg_users')).toBe('success');
    expect(status('dim_users')).toBe('success');
    expect(data.nodes.find((n) => n.name === 'dim_users')!.rows).toBe(7);
  });
});
