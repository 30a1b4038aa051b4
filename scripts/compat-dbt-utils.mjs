#!/usr/bin/env node
/**
 * Runs dbt-labs/dbt-utils' own integration_tests project on kiln (embedded engine), with
 * dbt_utils installed as the `local: ../` package its packages.yml names, and prints how many of
 * its models and tests pass, each failure with its reason.
 *
 * Where dbt-utils comes from (nothing of it is kept in this repository):
 *   DBT_UTILS_DIR=<checkout>     a dbt-utils working tree
 *   DBT_UTILS_GIT_DIR=<git dir>  a git directory (bare or not): its HEAD is exported
 *   otherwise                    git clone --depth 1 https://github.com/dbt-labs/dbt-utils
 * The tree is copied to a temporary folder; the package is not edited. kiln compiles a whole
 * project at once, so a model or test that does not compile is recorded as a failure with its
 * error and left out of that temporary copy (its file removed, or its test entry cut from the
 * YAML), and compile runs again until the rest compiles; then `kiln build` runs it.
 *
 * The project's profile points at Postgres; it runs on kiln's built-in `embedded` target, or, with
 * KILN_COMPAT_CH_URL (and KILN_COMPAT_CH_USER / KILN_COMPAT_CH_PASSWORD) set, on that ClickHouse
 * server: a kiln `targets:` entry is added to the temporary copy's dbt_project.yml (kiln's targets
 * win over the profile).
 *
 * Usage: npm run compat:dbt-utils [-- --keep] [-- --results FILE]
 *   --keep           leaves the temporary folder
 *   --results FILE   writes the counts and every failure with its reason to FILE (markdown)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KILN = join(REPO, 'bin/kiln.js');
const keep = process.argv.includes('--keep');
const resultsAt = process.argv.indexOf('--results');
const resultsFile = resultsAt > 0 ? resolve(process.argv[resultsAt + 1]) : undefined;
const serverUrl = process.env.KILN_COMPAT_CH_URL;
const TARGET = serverUrl ? 'server' : 'embedded';
const MAX_COMPILES = 40;

function checkout(work) {
  const dest = join(work, 'dbt-utils');
  if (process.env.DBT_UTILS_DIR) {
    cpSync(process.env.DBT_UTILS_DIR, dest, { recursive: true, filter: (src) => !/[\\/](\.git|target|dbt_packages|logs)$/.test(src) });
  } else if (process.env.DBT_UTILS_GIT_DIR) {
    mkdirSync(dest);
    const tar = execFileSync('git', ['--git-dir', process.env.DBT_UTILS_GIT_DIR, 'archive', 'HEAD'], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['x', '-C', dest], { input: tar });
  } else {
    const r = spawnSync('git', ['clone', '--quiet', '--depth', '1', 'https://github.com/dbt-labs/dbt-utils', dest], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error('could not clone dbt-utils; set DBT_UTILS_DIR (a checkout) or DBT_UTILS_GIT_DIR (a git directory)');
      process.exit(2);
    }
  }
  return join(dest, 'integration_tests');
}

function kiln(dir, args) {
  const r = spawnSync(process.execPath, [KILN, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', CI: '' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `error: <file>[:<line>]: <message>` lines of a failed compile. */
function compileErrors(output) {
  const errors = [];
  for (const line of output.split('\n')) {
    const m = /^error: ([^:\s]+)(?::(\d+))?: (.*)$/.exec(line);
    if (m) errors.push({ file: m[1], line: m[2] ? Number(m[2]) : undefined, message: m[3] });
  }
  return errors;
}

/** Cuts the YAML list item at `line` (1-based) and everything indented under it. */
function cutYamlItem(path, line) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = line - 1;
  const indent = lines[start].search(/\S/);
  let end = start + 1;
  while (end < lines.length && (lines[end].trim() === '' || lines[end].search(/\S/) > indent)) end++;
  const item = lines[start].trim();
  // A test written as `- name:` under a list that then becomes empty is still valid YAML (`[]` not needed: dbt allows it).
  lines.splice(start, end - start);
  writeFileSync(path, lines.join('\n'));
  return item;
}

const work = mkdtempSync(join(tmpdir(), 'kiln-compat-dbt-utils-'));
const project = checkout(work);
if (serverUrl) {
  const env = (name) => `"{{ env_var('${name}', '') }}"`;
  writeFileSync(join(project, 'dbt_project.yml'), `${readFileSync(join(project, 'dbt_project.yml'), 'utf8')}
targets:
  server: { engine: clickhouse, url: ${env('KILN_COMPAT_CH_URL')}, username: ${env('KILN_COMPAT_CH_USER')}, password: ${env('KILN_COMPAT_CH_PASSWORD')}, database: analytics, raw_database: raw }
`);
}
const excluded = [];
let compiled = false;
for (let i = 0; i < MAX_COMPILES && !compiled; i++) {
  const r = kiln(project, ['compile', '--target', TARGET]);
  if (r.code === 0) {
    compiled = true;
    break;
  }
  const errors = compileErrors(r.out);
  if (errors.length === 0) {
    console.error(`kiln compile failed without a file to blame:\n${r.out}`);
    process.exit(1);
  }
  // YAML cuts from the bottom up, so earlier line numbers stay right.
  errors.sort((a, b) => (a.file === b.file ? (b.line ?? 0) - (a.line ?? 0) : a.file < b.file ? -1 : 1));
  let progress = false;
  for (const e of errors) {
    const path = resolve(project, e.file);
    // The project's own files (dbt_project.yml, profiles.yml) cannot be left out.
    if (!path.startsWith(project) || !existsSync(path) || /^(dbt_project|profiles|packages)\.yml$/.test(e.file)) {
      excluded.push({ what: e.file, reason: e.message, kind: 'package' });
      continue;
    }
    if (e.file.endsWith('.yml') && e.line) {
      const name = /test '([^']+)'/.exec(e.message)?.[1] ?? cutYamlItem(path, e.line);
      if (/test '/.test(e.message)) cutYamlItem(path, e.line);
      excluded.push({ what: `test ${name}`, reason: e.message.replace(/^test '[^']+': /, ''), kind: 'test' });
    } else {
      unlinkSync(path);
      const kind = e.file.startsWith('tests/') ? 'test' : e.file.endsWith('.csv') ? 'seed' : 'model';
      excluded.push({ what: `${kind} ${e.file}`, reason: e.message, kind });
    }
    progress = true;
  }
  if (!progress) {
    console.error(`kiln compile fails in the package itself:\n${r.out}`);
    process.exit(1);
  }
}
if (!compiled) {
  console.error(`still not compiling after ${MAX_COMPILES} rounds`);
  process.exit(1);
}

const build = kiln(project, ['build', '--threads', '2', '--target', TARGET, '--no-validate']);
const results = JSON.parse(readFileSync(join(project, 'target/run_results.json'), 'utf8')).results;
const manifest = JSON.parse(readFileSync(join(project, 'target/manifest.json'), 'utf8'));
const kindOf = (id) => (id.startsWith('model.') ? 'model' : id.startsWith('seed.') ? 'seed' : 'test');
const count = { model: { pass: 0, fail: 0 }, test: { pass: 0, fail: 0 }, seed: { pass: 0, fail: 0 } };
const failures = [];
for (const r of results) {
  const kind = kindOf(r.unique_id);
  const ok = r.status === 'success' || r.status === 'pass';
  count[kind][ok ? 'pass' : 'fail']++;
  if (!ok) {
    const node = manifest.nodes[r.unique_id] ?? manifest.tests?.[r.unique_id];
    failures.push({ what: `${kind} ${node?.name ?? r.unique_id}`, reason: `${r.status}: ${(r.message ?? '').split('\n')[0]}` });
  }
}
for (const e of excluded) {
  if (e.kind in count) count[e.kind].fail++;
}

const lines = [
  `dbt-utils integration_tests on kiln (${serverUrl ? 'ClickHouse server' : 'embedded engine'})`,
  `  models: ${count.model.pass} passed, ${count.model.fail} failed`,
  `  tests:  ${count.test.pass} passed, ${count.test.fail} failed`,
  `  seeds:  ${count.seed.pass} loaded, ${count.seed.fail} failed`,
];
if (excluded.length) lines.push('', 'did not compile (left out of the build):', ...excluded.map((e) => `  ${e.what}: ${e.reason}`));
if (failures.length) lines.push('', 'failed in the build:', ...failures.map((f) => `  ${f.what}: ${f.reason}`));
console.log(lines.join('\n'));
if (resultsFile) writeFileSync(resultsFile, `${lines.join('\n')}\n`);
if (build.code !== 0 && results.length === 0) console.log(build.out);
if (keep) console.log(`\nproject kept in ${project}`);
else rmSync(work, { recursive: true, force: true });
