// Measuring helpers for bench/run.js: run a command as a fresh process, time it, read artifacts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

/**
 * Runs `cmd args` to completion as a new process. Returns wall seconds (measured here), CPU
 * seconds (user+sys of the child, when /usr/bin/time exists), stdout, stderr and the exit status.
 */
export function timeProcess(cmd, args, { cwd, timeoutMs = 20 * 60_000, env } = {}) {
  const scratch = hasTime ? mkdtempSync(join(tmpdir(), 'kiln-bench-time-')) : null;
  const timeFile = scratch ? join(scratch, 'time') : null;
  const [file, argv] = hasTime ? [TIME, ['-f', '%U %S', '-o', timeFile, cmd, ...args]] : [cmd, args];
  const startedAt = Date.now();
  const t0 = performance.now();
  const r = spawnSync(file, argv, {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
  });
  const wall = (performance.now() - t0) / 1000;
  const endedAt = Date.now();
  let cpu = null;
  if (timeFile && existsSync(timeFile)) {
    const [user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
    if (Number.isFinite(user) && Number.isFinite(sys)) cpu = user + sys;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  return {
    wall,
    cpu,
    startedAt,
    endedAt,
    status: r.status,
    error: r.error ? r.error.message : null,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
  };
}

/** Throws with the process's own words when it did not exit 0. */
export function mustSucceed(what, r) {
  if (r.status === 0) return r;
  const tail = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-5).join('\n');
  throw new Error(`${what} failed (exit ${r.status ?? r.error}):\n${tail}`);
}

export function median(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Splits one `kiln run` process into consecutive phases, all measured inside that one process:
 * - startup: process spawn → the command's clock starts (node + module loading);
 * - compile: → target/manifest.json written (its mtime; compile writes it before connecting);
 * - connect: → the first node starts (open the warehouse, create databases, list relations, plan);
 * - nodes: first node start → last node end, of which `clickhouse` is the sum of
 *   adapter_response.query_time_ms (time spent inside ClickHouse);
 * - finish: → the process has exited (run_results.json, summary, teardown).
 * `proc` is timeProcess()'s result for the run.
 */
export function runPhases(targetDir, proc) {
  const doc = JSON.parse(readFileSync(join(targetDir, 'run_results.json'), 'utf8'));
  const results = doc.results;
  const clockEnd = Date.parse(doc.metadata.generated_at);
  const clockStart = clockEnd - doc.elapsed_time * 1000;
  const manifestAt = statSync(join(targetDir, 'manifest.json')).mtimeMs;
  let first = Infinity;
  let last = -Infinity;
  let clickhouseMs = 0;
  const statuses = {};
  for (const r of results) {
    const t = r.timing?.[0];
    if (t) {
      first = Math.min(first, Date.parse(t.started_at));
      last = Math.max(last, Date.parse(t.completed_at));
    }
    clickhouseMs += r.adapter_response?.query_time_ms ?? 0;
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
  const sec = (a, b) => Math.max(0, b - a) / 1000;
  return {
    models: results.length,
    statuses,
    startup: sec(proc.startedAt, clockStart),
    compile: sec(clockStart, manifestAt),
    connect: sec(manifestAt, first),
    nodes: sec(first, last),
    finish: sec(last, proc.endedAt),
    clickhouse: clickhouseMs / 1000,
  };
}

/** "Compiled 1000 models ... in 0.47s" → 0.47 (the CLI's in-process compile time). */
export function compileSecondsFrom(stdout) {
  const m = /Compiled .* in ([\d.]+)s/.exec(stdout);
  return m ? Number(m[1]) : null;
}
