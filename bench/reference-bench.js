// `npm run bench` (and alone: node bench/reference-bench.js [--reviews N] [--events M]):
// the reference project at scale. Generates 1M reviews / 5M events with scripts/gen-data.mjs
// outside the repo (cached between runs in $KILN_BENCH_DATA or the temp folder), builds the
// reference project on them with --vars '{data_root: DIR}' on the embedded engine, and reports
// per stage (stage, run, test) kiln's wall time against the sum of ClickHouse's own query
// times (run_results adapter_response.query_time_ms) - what is left is kiln's overhead plus
// process start, compile and the parts ClickHouse does not time.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const reviews = arg('reviews', Number(process.env.KILN_BENCH_REVIEWS ?? 1_000_000));
const events = arg('events', Number(process.env.KILN_BENCH_EVENTS ?? 5_000_000));
const progress = (msg) => process.stderr.write(`· ${msg}\n`);

function run(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, timeout: 60 * 60_000, ...opts });
  return { ...r, wall: (performance.now() - t0) / 1000 };
}

// 1. data, generated once per size
const dataRoot = process.env.KILN_BENCH_DATA ?? join(tmpdir(), `kiln-reference-${reviews}r-${events}e`);
if (!existsSync(join(dataRoot, 'ground-truth.json'))) {
  progress(`generating ${reviews} reviews / ${events} events into ${dataRoot}`);
  const g = run(process.execPath, [join(repo, 'scripts/gen-data.mjs'), '--reviews', String(reviews), '--events', String(events), '--out', dataRoot], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (g.status !== 0) throw new Error(`gen-data failed (exit ${g.status})`);
  progress(g.stdout.trim());
} else progress(`reusing ${dataRoot}`);

// 2. the project, copied so its warehouse and target/ are the bench's own
const work = mkdtempSync(join(tmpdir(), 'kiln-reference-bench-'));
for (const entry of ['project.yml', 'sources.yml', 'models', 'seeds', 'macros', 'tests/data']) {
  if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(work, entry), { recursive: true });
}
mkdirSync(join(work, 'data'), { recursive: true });

const kiln = (command) => {
  progress(`kiln ${command}`);
  const r = run(process.execPath, [join(repo, 'bin/kiln.js'), command, '--project-dir', work, '--vars', JSON.stringify({ data_root: dataRoot })]);
  const resultsFile = join(work, 'target/run_results.json');
  const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')).results : [];
  rmSync(resultsFile, { force: true });
  // a failing data test is a result to report (exit 1), not a broken bench
  if (r.status !== 0 && !(command === 'test' && r.status === 1)) {
    process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
    throw new Error(`kiln ${command} exited ${r.status}`);
  }
  const ch = results.reduce((s, x) => s + (x.adapter_response?.query_time_ms ?? 0), 0) / 1000;
  const rows = results.reduce((s, x) => s + (typeof x.rows_affected === 'number' ? x.rows_affected : 0), 0);
  const nodes = results.length;
  const failures = results.filter((x) => x.status === 'error' || x.status === 'fail').map((x) => x.unique_id);
  return { command, wall: r.wall, ch, rows, nodes, failures };
};

let rowsOut;
try {
  // seed belongs with run: it materializes the project's own tables
  const stage = kiln('stage');
  const seed = kiln('seed');
  const models = kiln('run');
  const tests = kiln('test');
  const runStage = { command: 'run (seed + models)', wall: seed.wall + models.wall, ch: seed.ch + models.ch, rows: seed.rows + models.rows, nodes: seed.nodes + models.nodes, failures: [...seed.failures, ...models.failures] };
  rowsOut = [stage, runStage, tests];
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (s) => `${s.toFixed(2)} s`;
const table = [
  ['stage', 'nodes', 'rows', 'kiln wall', 'ClickHouse sum', 'kiln - ClickHouse', 'ClickHouse share'],
  ...rowsOut.map((r) => [r.command, String(r.nodes), r.rows.toLocaleString('en-US'), fmt(r.wall), fmt(r.ch), fmt(r.wall - r.ch), `${Math.round((100 * r.ch) / r.wall)}%`]),
];
const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
console.log(`\nreference project: ${reviews.toLocaleString('en-US')} reviews, ${events.toLocaleString('en-US')} events, embedded engine, ${cpus().length} cores`);
for (const [i, row] of table.entries()) {
  console.log(row.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
console.log('kiln wall: the command from process start to exit; ClickHouse sum: adapter_response.query_time_ms over its nodes.');
const failed = rowsOut.flatMap((r) => r.failures);
if (failed.length) console.log(`failing nodes: ${failed.join(', ')}`);
