// `npm run bench` (and alone: node bench/cluster-bench.js [--reviews N] [--events M]): the
// reference project at scale on the test harness's cluster (ZooKeeper + 2 shards × 2 replicas of
// clickhouse-server, tests/harness/clickhouse-cluster.ts) against one node of it without a
// cluster. Same data (scripts/gen-data.mjs, cached as reference-bench.js caches it), same
// project, two targets on node 0: `single` (no cluster) and `cluster` (cluster: kiln_cluster,
// every DDL ON CLUSTER, replicated tables). Reports each stage's wall time (process start to
// exit) on both, and the row counts, which must agree. Skipped with a message where zookeeper or
// clickhouse-server is not installed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const reviews = arg('reviews', Number(process.env.KILN_BENCH_REVIEWS ?? 1_000_000));
const events = arg('events', Number(process.env.KILN_BENCH_EVENTS ?? 5_000_000));
// Threads of both targets (kiln's default when 0).
const threads = arg('threads', 0);
const progress = (msg) => process.stderr.write(`· ${msg}\n`);

function run(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 60 * 60_000, ...opts });
  return { ...r, wall: (performance.now() - t0) / 1000 };
}

// The harness is TypeScript for vitest: bundled here into one module for node (vitest stays external).
const scratch = mkdtempSync(join(tmpdir(), 'kiln-cluster-bench-'));
// Written under node_modules so that its import of vitest resolves.
const harness = join(repo, 'node_modules/.cache/kiln-cluster-bench/harness.mjs');
await build({
  entryPoints: [join(repo, 'tests/harness/clickhouse-cluster.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: harness,
  external: ['vitest'],
  logLevel: 'error',
});
const { startClickHouseCluster, clusterProgramsMissing, CLUSTER_NAME } = await import(pathToFileURL(harness).href);
if (clusterProgramsMissing) {
  console.log(`cluster bench skipped: ${clusterProgramsMissing}`);
  rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}

// 1. data, generated once per size (shared with reference-bench.js)
const dataRoot = process.env.KILN_BENCH_DATA ?? join(tmpdir(), `kiln-reference-${reviews}r-${events}e`);
if (!existsSync(join(dataRoot, 'ground-truth.json'))) {
  progress(`generating ${reviews} reviews / ${events} events into ${dataRoot}`);
  const g = run(process.execPath, [join(repo, 'scripts/gen-data.mjs'), '--reviews', String(reviews), '--events', String(events), '--out', dataRoot], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (g.status !== 0) throw new Error(`gen-data failed (exit ${g.status})`);
} else progress(`reusing ${dataRoot}`);

progress('starting ZooKeeper and 4 clickhouse-servers');
const cluster = await startClickHouseCluster();
const node = cluster.nodes[0];

// 2. the project with the two targets on node 0
const work = join(scratch, 'project');
for (const entry of ['project.yml', 'sources.yml', 'models', 'seeds', 'snapshots', 'macros', 'tests/data']) {
  if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(work, entry), { recursive: true });
}
mkdirSync(join(work, 'data'), { recursive: true });
const target = (database, extra) =>
  `  ${database === 'single' ? 'single' : 'cluster'}: { engine: clickhouse, url: "${node.url}", username: "{{ env_var('KILN_BENCH_CH_USER') }}", password: "{{ env_var('KILN_BENCH_CH_PASSWORD') }}", database: ${database}_analytics, raw_database: ${database}_raw${threads ? `, threads: ${threads}` : ''}${extra} }\n`;
const projectYml = readFileSync(join(work, 'project.yml'), 'utf8').replace(/^targets:\n/m, `targets:\n${target('single', '')}${target('cluster', `, cluster: ${CLUSTER_NAME}`)}`);
writeFileSync(join(work, 'project.yml'), projectYml);
const env = { ...process.env, KILN_BENCH_CH_USER: cluster.username, KILN_BENCH_CH_PASSWORD: cluster.password };

const kiln = (command, targetName) => {
  progress(`kiln ${command} --target ${targetName}`);
  const r = run(process.execPath, [join(repo, 'bin/kiln.js'), command, '--project-dir', work, '--target', targetName, '--vars', JSON.stringify({ data_root: dataRoot })], { env });
  const resultsFile = join(work, 'target/run_results.json');
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')).results : [];
  rmSync(resultsFile, { force: true });
  const failures = results.filter((x) => x.status === 'error' || x.status === 'fail').map((x) => x.unique_id);
  progress(`  ${r.wall.toFixed(2)} s, exit ${r.status}`);
  if (r.status !== 0 && !(command === 'test' && r.status === 1)) {
    process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    return { wall: r.wall, nodes: results.length, failures: [...failures, `kiln ${command} exited ${r.status}`] };
  }
  return { wall: r.wall, nodes: results.length, failures };
};

const rowsOf = async (database) => {
  const sql = `SELECT table, toString(sum(rows)) AS n FROM system.parts WHERE database = '${database}' AND active GROUP BY table ORDER BY table FORMAT TSV`;
  return cluster.query(0, sql);
};

const stages = ['stage', 'seed', 'run', 'snapshot', 'test'];
const measured = { single: {}, cluster: {} };
let counts;
try {
  for (const targetName of ['single', 'cluster']) {
    for (const stage of stages) measured[targetName][stage] = kiln(stage, targetName);
  }
  counts = { single: await rowsOf('single_analytics'), cluster: await rowsOf('cluster_analytics') };
} finally {
  await cluster.stop();
  rmSync(scratch, { recursive: true, force: true });
}

const fmt = (s) => `${s.toFixed(2)} s`;
const table = [
  ['stage', 'nodes', 'one node', '4-node cluster', 'cluster / one node'],
  ...stages.map((s) => [s, String(measured.cluster[s].nodes), fmt(measured.single[s].wall), fmt(measured.cluster[s].wall), `${(measured.cluster[s].wall / measured.single[s].wall).toFixed(2)}x`]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`\nreference project on a cluster: ${reviews.toLocaleString('en-US')} reviews, ${events.toLocaleString('en-US')} events, clickhouse-server ${cluster.version}, 2 shards x 2 replicas + ZooKeeper on ${cpus().length} cores, against node 0 alone${threads ? `, threads: ${threads}` : ''}`);
for (const [i, row] of table.entries()) {
  console.log(row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
console.log(`tables' rows on node 0 ${counts.single === counts.cluster ? 'agree' : 'DIFFER'} between the two builds`);
const failed = Object.entries(measured).flatMap(([t, byStage]) => Object.values(byStage).flatMap((m) => m.failures.map((f) => `${t}: ${f}`)));
if (failed.length) console.log(`failing nodes: ${failed.join(', ')}`);
