// `npm run bench`: kiln's speed goals from issue 2, measured with the real CLI in new processes.
//   compile: cold (no target/) and warm (second run) at 1k and 10k synthetic models
//   Dataform's CLI on the same 1k DAG (../shared/bench/dataform-compile.sh), in the same run
//   run: 1k views on the embedded engine, split into startup, compile, connect, ClickHouse, kiln
//     (with --no-validate: the validation before any change is measured on its own, below)
//   validate: kiln compile --validate of the 1k DAG on the embedded engine (issue 16: ≤ 2 s)
// Env: KILN_BENCH_REPS (default 3) repetitions for the compile medians; KILN_BENCH_SKIP_DATAFORM=1.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileSecondsFrom, median, mustSucceed, runPhases, timeProcess } from './measure.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.KILN_SHARED_DIR ?? resolve(repo, '../shared');
const genDag = join(shared, 'bench/gen-dag.js');
const dataformScript = join(shared, 'bench/dataform-compile.sh');
const kilnBin = join(repo, 'bin/kiln.js');
const reps = Math.max(1, Number(process.env.KILN_BENCH_REPS ?? 3));
const GOAL = { compile10k: 3, compile10kWarm: 1, dataformRatio: 10, overheadMs: 5, validate1k: 2 };

const work = mkdtempSync(join(tmpdir(), 'kiln-bench-'));
const progress = (msg) => process.stderr.write(`· ${msg}\n`);
const kiln = (...args) => timeProcess(process.execPath, [kilnBin, ...args]);

function makeDag(n) {
  const dir = join(work, `dag-${n}`);
  mustSucceed(`gen-dag ${n}`, timeProcess(process.execPath, [genDag, String(n), dir]));
  return dir;
}

/**
 * Cold = new process and no target/; warm = the same again with target/ left from the cold run
 * (nothing changed: target/ is kept, compile-inputs.ts); edited = warm after one model changed
 * (a full compile that finds most compiled files already written).
 */
function benchCompile(dir, n) {
  const cold = [];
  const warm = [];
  const edited = [];
  for (let i = 0; i < reps; i++) {
    progress(`compile ${n} models, cold ${i + 1}/${reps}`);
    rmSync(join(dir, 'target'), { recursive: true, force: true });
    settleDisk();
    const c = mustSucceed(`kiln compile (${n})`, kiln('compile', '--project-dir', dir));
    cold.push({ wall: c.wall, cpu: c.cpu, inProcess: compileSecondsFrom(c.stdout) });
    progress(`compile ${n} models, warm ${i + 1}/${reps}`);
    const w = mustSucceed(`kiln compile (${n}, warm)`, kiln('compile', '--project-dir', dir));
    warm.push({ wall: w.wall, cpu: w.cpu, inProcess: compileSecondsFrom(w.stdout) });
    progress(`compile ${n} models, one model edited ${i + 1}/${reps}`);
    appendFileSync(join(dir, 'models/m_0.sql'), `\n-- bench edit ${i}\n`);
    const e = mustSucceed(`kiln compile (${n}, one edit)`, kiln('compile', '--project-dir', dir));
    edited.push({ wall: e.wall, cpu: e.cpu, inProcess: compileSecondsFrom(e.stdout) });
  }
  const med = (xs, k) => median(xs.map((x) => x[k]));
  return {
    cold: { wall: med(cold, 'wall'), cpu: med(cold, 'cpu'), inProcess: med(cold, 'inProcess'), all: cold.map((x) => x.wall) },
    warm: { wall: med(warm, 'wall'), cpu: med(warm, 'cpu'), inProcess: med(warm, 'inProcess'), all: warm.map((x) => x.wall) },
    edited: { wall: med(edited, 'wall'), cpu: med(edited, 'cpu'), inProcess: med(edited, 'inProcess'), all: edited.map((x) => x.wall) },
  };
}

/** Lets the file system finish deleting the last target/ so it is not billed to the next compile. */
function settleDisk() {
  spawnSync('sync');
}

function benchDataform(n) {
  if (process.env.KILN_BENCH_SKIP_DATAFORM === '1') return { unavailable: 'skipped (KILN_BENCH_SKIP_DATAFORM=1)' };
  if (!existsSync(dataformScript)) return { unavailable: `${dataformScript} not found` };
  progress(`dataform compile ${n} models (installs @dataform/cli on first use; can take minutes)`);
  const r = timeProcess('bash', [dataformScript, String(n)]);
  const m = /dataform (\d+) models \((\d+) compiled\): ([\d.]+) s wall, ([\d.]+) s cpu/.exec(r.stdout);
  if (r.status !== 0 || !m) {
    const why = `${r.stderr}\n${r.stdout}`.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
    return { unavailable: `exit ${r.status ?? r.error}${why ? `: ${why}` : ''}` };
  }
  return { wall: Number(m[3]), cpu: Number(m[4]), compiled: Number(m[2]), scriptWall: r.wall };
}

/** One `kiln run` on a fresh embedded warehouse (a copy of the project without .kiln/ or target/). */
function benchRun(dir, n, threads) {
  const proj = join(work, `run-${n}-t${threads}`);
  rmSync(proj, { recursive: true, force: true });
  cpSync(join(dir, 'models'), join(proj, 'models'), { recursive: true });
  cpSync(join(dir, 'project.yml'), join(proj, 'project.yml'));
  settleDisk();
  progress(`run ${n} views, --threads ${threads}, fresh warehouse`);
  const r = mustSucceed(`kiln run (${n}, threads ${threads})`, kiln('run', '--project-dir', proj, '--threads', String(threads), '--no-validate'));
  const phases = runPhases(join(proj, 'target'), r);
  rmSync(proj, { recursive: true, force: true });
  return { wall: r.wall, cpu: r.cpu, ...phases };
}

/**
 * `kiln compile --validate` on a fresh embedded warehouse: the check every run/build does before
 * its first change. In-process time from its own line ("Validated N nodes … in X s").
 */
function benchValidate(dir, n) {
  const proj = join(work, `validate-${n}`);
  const inProcess = [];
  const walls = [];
  for (let i = 0; i < reps; i++) {
    rmSync(proj, { recursive: true, force: true });
    cpSync(join(dir, 'models'), join(proj, 'models'), { recursive: true });
    cpSync(join(dir, 'project.yml'), join(proj, 'project.yml'));
    settleDisk();
    progress(`compile --validate ${n} models ${i + 1}/${reps}`);
    const r = mustSucceed(`kiln compile --validate (${n})`, kiln('compile', '--validate', '--project-dir', proj));
    const m = /Validated (\d+) nodes.* in ([\d.]+)s/.exec(r.stdout);
    if (!m) throw new Error(`no validation line in: ${r.stdout}`);
    inProcess.push(Number(m[2]));
    walls.push(r.wall);
  }
  rmSync(proj, { recursive: true, force: true });
  return { inProcess: median(inProcess), wall: median(walls), all: inProcess };
}

function benchStartup() {
  const walls = [];
  for (let i = 0; i < reps; i++) walls.push(mustSucceed('kiln --version', kiln('--version')).wall);
  return median(walls);
}

// ---- measure -------------------------------------------------------------------------------
const load0 = loadavg()[0];
progress(`workdir ${work}`);
const dag1k = makeDag(1000);
const dag10k = makeDag(10000);
const startup = benchStartup();
const c1k = benchCompile(dag1k, 1000);
const c10k = benchCompile(dag10k, 10000);
const dataform = benchDataform(1000);
const run1 = benchRun(dag1k, 1000, 1);
const run4 = benchRun(dag1k, 1000, 4);
const v1k = benchValidate(dag1k, 1000);
const load1 = loadavg()[0];
rmSync(work, { recursive: true, force: true });

// ---- derive --------------------------------------------------------------------------------
// kiln's overhead per model, with --threads 1 so ClickHouse time and kiln time do not overlap:
// everything the process spends outside ClickHouse, minus process startup and compile.
const overheadMs = ((run1.wall - run1.clickhouse - run1.startup - run1.compile) / run1.models) * 1000;
const perNodeMs = ((run1.nodes - run1.clickhouse) / run1.models) * 1000;
const ratio = dataform.wall ? dataform.wall / c1k.cold.wall : null;

// ---- print ---------------------------------------------------------------------------------
const s = (x, d = 2) => (x === null || x === undefined ? '–' : `${x.toFixed(d)} s`);
const ms = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(2)} ms`);
const verdict = (ok) => (ok === null ? 'n/a' : ok ? 'met' : 'NOT met');
const rows = [];
const row = (what, value, goal = '', status = '') => rows.push([what, value, goal, status]);
const section = (title) => rows.push([title]);

section(`compile (new process each time; median of ${reps}; wall [cpu, in-process])`);
const cWall = (c) => `${s(c.wall)} [${s(c.cpu)}, ${s(c.inProcess)}]`;
row('kiln compile 1k models, cold', cWall(c1k.cold));
row('kiln compile 1k models, warm (target/ kept)', cWall(c1k.warm));
row('kiln compile 1k models, warm, one model edited', cWall(c1k.edited));
row('kiln compile 10k models, cold', cWall(c10k.cold), `≤ ${GOAL.compile10k} s`, verdict(c10k.cold.wall <= GOAL.compile10k));
row('kiln compile 10k models, warm (target/ kept)', cWall(c10k.warm), `≤ ${GOAL.compile10kWarm} s`, verdict(c10k.warm.wall <= GOAL.compile10kWarm));
row('kiln compile 10k models, warm, one model edited', cWall(c10k.edited));
row('  10k cold − one edited, in-process (≈ creating 10k compiled files)', s(c10k.cold.inProcess - c10k.edited.inProcess));
if (dataform.unavailable) {
  row('dataform compile 1k models', `unavailable: ${dataform.unavailable}`, `kiln ≤ 1/${GOAL.dataformRatio}`, 'n/a');
} else {
  row('dataform compile 1k models (its own timing)', `${s(dataform.wall)} [${s(dataform.cpu)} cpu]`);
  row('  dataform / kiln, 1k cold wall', `${ratio.toFixed(1)}×`, `≥ ${GOAL.dataformRatio}×`, verdict(ratio >= GOAL.dataformRatio));
  if (dataform.cpu && c1k.cold.cpu) row('  dataform / kiln, 1k cold cpu', `${(dataform.cpu / c1k.cold.cpu).toFixed(1)}×`);
}
section('kiln run, 1k views, embedded engine, fresh warehouse, --threads 1');
row('wall (new process)', `${s(run1.wall)} [${s(run1.cpu)} cpu]`);
row('  process startup (spawn → command clock starts)', s(run1.startup));
row('  compile + write artifacts', s(run1.compile));
row('  connect + prepare warehouse + plan', s(run1.connect));
row('  nodes: first start → last end', s(run1.nodes));
row('    inside ClickHouse (Σ query_time_ms)', s(run1.clickhouse));
row('    kiln per node ((nodes − ClickHouse) / models)', ms(perNodeMs));
row('  run_results + exit', s(run1.finish));
row('kiln overhead per model ((wall − ClickHouse − startup − compile) / models)', ms(overheadMs), `≤ ${GOAL.overheadMs} ms`, verdict(overheadMs <= GOAL.overheadMs));
row('  for scale: process startup of kiln --version', s(startup));
section('kiln run, 1k views, default --threads 4, fresh warehouse');
row('wall (new process)', `${s(run4.wall)} [${s(run4.cpu)} cpu]`);
row('  startup / compile / connect', `${s(run4.startup)} / ${s(run4.compile)} / ${s(run4.connect)}`);
row('  nodes: first start → last end', s(run4.nodes));
row('  Σ ClickHouse query time (overlaps across threads)', s(run4.clickhouse));
row('  statuses', Object.entries(run4.statuses).map(([k, v]) => `${v} ${k}`).join(', '));
section(`validation before any change (kiln compile --validate), 1k views, embedded engine, fresh warehouse; median of ${reps}`);
row('validation, in-process (shadow database, 1k views checked)', `${s(v1k.inProcess)} [runs: ${v1k.all.map((x) => x.toFixed(2)).join(', ')}]`, `≤ ${GOAL.validate1k} s`, verdict(v1k.inProcess <= GOAL.validate1k));
row('  whole command (new process: compile + connect + validate)', s(v1k.wall));

const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.filter((r) => r.length > 1).map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  │ ').trimEnd();
const rule = widths.map((w) => '─'.repeat(w)).join('──┼─');
const out = [];
out.push(`kiln bench — node ${process.version}, ${cpus().length} cores, load average ${load0.toFixed(2)} → ${load1.toFixed(2)} (shared machine: compare medians, not single runs)`);
out.push(line(['measurement', 'value', 'goal', 'status']));
out.push(rule);
for (const r of rows) out.push(r.length === 1 ? `${r[0]}` : line(r));
process.stdout.write(`${out.join('\n')}\n`);
