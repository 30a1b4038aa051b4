#!/usr/bin/env node
// Data test and unit test speed on the embedded engine (issue 4):
//  - 200 generic data tests (unique + not_null on 100 models of the 1k synthetic DAG): wall time of
//    `kiln test`, and per-test overhead (test phase time minus ClickHouse's own query time) / 200;
//  - unit tests: median execution time of 20 unit tests (goal <= 50 ms);
//  - batching: the same 200 failure counts as 200 statements vs UNION ALL batches of 10 and 50.
// Usage: node bench/tests-bench.js   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = join(repo, 'bin/kiln.js');
const genDag = '/work/shared/bench/gen-dag.js';
const TESTED = 100;
const UNIT = 20;

const dir = mkdtempSync(join(tmpdir(), 'kiln-tests-bench-'));
const run = (args) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [kiln, ...args, '--project-dir', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return wall;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const gen = spawnSync(process.execPath, [genDag, '1000', dir], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`gen-dag failed: ${gen.stderr}`);
  const models = Array.from({ length: TESTED }, (_, i) => `m_${i}`);
  // The tested models become tables: as views, each test would re-expand an exponential tree of
  // UNION ALL views (~200 ms of ClickHouse time per test), which measures ClickHouse, not kiln.
  for (const m of models) {
    const file = join(dir, `models/${m}.sql`);
    writeFileSync(file, readFileSync(file, 'utf8').replace("materialized='view'", "materialized='table'"));
  }
  const yml = ['models:'];
  for (const m of models) yml.push(`  - name: ${m}`, '    columns:', '      - name: id', '        data_tests: [unique, not_null]');
  yml.push('unit_tests:');
  for (let i = 1; i <= UNIT; i++) {
    // m_i reads 1-3 earlier models; giving rows for one of them, the others are empty tables.
    const parent = readFileSync(join(dir, `models/m_${i}.sql`), 'utf8').match(/ref\('(m_\d+)'\)/)[1];
    yml.push(
      `  - name: sums_${i}`,
      `    model: m_${i}`,
      '    given:',
      `      - input: ref('${parent}')`,
      '        rows: [{ id: 1, val: 2 }, { id: 1, val: 3 }, { id: 2, val: 5 }]',
      '    expect:',
      '      rows: [{ id: 1 }, { id: 2 }]',
    );
  }
  writeFileSync(join(dir, 'models/tests.yml'), `${yml.join('\n')}\n`);

  // Setup (not measured): the tested models and their ancestors (all earlier in the DAG).
  run(['run', '--select', models.join(' ')]);

  const compileWall = run(['compile']);
  const readResults = () => JSON.parse(readFileSync(join(dir, 'target/run_results.json'), 'utf8')).results;
  const wall = run(['test', '--select', 'test_type:generic']);
  const data = readResults();
  // One thread: chdb runs one statement at a time, so with more threads a step's time would
  // include waiting for the others' statements.
  run(['test', '--select', 'test_type:unit', '--threads', '1']);
  const unit = readResults();
  const bad = [...data, ...unit].filter((r) => r.status !== 'pass');
  if (data.length !== 200 || unit.length !== UNIT || bad.length) {
    throw new Error(`expected 200 passing data tests and ${UNIT} unit tests, got ${data.length}/${unit.length}, ${bad.length} not passing: ${bad[0]?.message}`);
  }
  const span = (rs) => {
    const start = Math.min(...rs.map((r) => Date.parse(r.timing[0].started_at)));
    const end = Math.max(...rs.map((r) => Date.parse(r.timing[0].completed_at)));
    return (end - start) / 1000;
  };
  const dataSpan = span(data);
  const chSeconds = data.reduce((s, r) => s + (r.adapter_response.query_time_ms ?? 0), 0) / 1000;
  const unitMedianMs = median(unit.map((r) => r.execution_time * 1000));

  // Batching: the 200 counts one statement each vs UNION ALL batches, in one process.
  const { Adapter } = await import(join(repo, 'dist/adapters/adapter.js'));
  const { countFailures, countFailuresBatch } = await import(join(repo, 'dist/adapters/test-queries.js'));
  const manifest = JSON.parse(readFileSync(join(dir, 'target/manifest.json'), 'utf8'));
  const tests = Object.values(manifest.nodes).filter((n) => n.resource_type === 'test').map((n) => ({ sql: n.compiled_code, limit: null }));
  const adapter = await Adapter.connect({ name: 'dev', engine: 'embedded', path: join(dir, '.kiln/dev'), database: 'analytics', raw_database: 'raw' });
  const timeIt = async (batch) => {
    const t0 = performance.now();
    if (batch === 1) for (const t of tests) await adapter.query(countFailures(t.sql, t.limit));
    else for (let i = 0; i < tests.length; i += batch) await adapter.query(countFailuresBatch(tests.slice(i, i + batch)));
    return (performance.now() - t0) / 1000;
  };
  await timeIt(1); // warm caches once
  const batching = [];
  for (const size of [1, 5, 10, 50]) {
    try {
      batching.push([size, median([await timeIt(size), await timeIt(size), await timeIt(size)])]);
    } catch (err) {
      // Deep view chains in one UNION ALL can exceed ClickHouse's plan limits: a finding, not a crash.
      batching.push([size, null, String(err.message).split('\n')[0].slice(0, 70)]);
    }
  }
  await adapter.close();

  const rows = [
    ['kiln compile (1k models + 220 tests), wall', `${compileWall.toFixed(2)} s`, ''],
    ['kiln test: 200 data tests, wall (process start, compile, connect, run)', `${wall.toFixed(2)} s`, '<= 5 s'],
    ['data tests: test phase span', `${dataSpan.toFixed(2)} s`, ''],
    ['data tests: ClickHouse query time, summed', `${chSeconds.toFixed(2)} s`, ''],
    ['data tests: per-test kiln overhead ((span - query time) / 200)', `${(((dataSpan - chSeconds) / 200) * 1000).toFixed(1)} ms`, ''],
    ['unit tests: median per test', `${unitMedianMs.toFixed(1)} ms`, '<= 50 ms'],
    ...batching.map(([size, s, err]) => [`200 failure counts, ${size === 1 ? 'one statement each' : `UNION ALL batches of ${size}`}`, s === null ? 'failed' : `${s.toFixed(3)} s`, err ?? '']),
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('\nkiln tests bench (embedded engine, 1k synthetic DAG)\n');
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  const single = batching[0][1];
  const ok = batching.slice(1).filter(([, s]) => s !== null).map(([, s]) => s);
  const best = ok.length ? Math.min(...ok) : Infinity;
  console.log(`\n  batching: ${best < single * 0.8 ? `pays off (${(single / best).toFixed(1)}x faster)` : `does not pay off (best batch ${Number.isFinite(best) ? `${(single / best).toFixed(2)}x the speed of` : 'failed, vs'} single statements)`}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
