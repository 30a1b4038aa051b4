import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Subprocess helpers for the incremental, state and watch suites: write an inline project, run
 * the real CLI (`node bin/kiln.js`, built by `npm run build`) on it, read the embedded warehouse
 * from a short-lived process of its own (chdb binds one data folder per process).
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const KILN_BIN = join(REPO_ROOT, 'bin/kiln.js');

const made: string[] = [];

export function writeProject(files: Readonly<Record<string, string>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-inc-'));
  made.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

export function removeProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface KilnResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function spawnKiln(dir: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): ChildProcess {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build`');
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...env };
  delete childEnv.GITHUB_ACTIONS;
  if (!('KILN_TARGET' in env)) delete childEnv.KILN_TARGET;
  return spawn(process.execPath, [KILN_BIN, ...args, '--project-dir', dir], {
    cwd: dir,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `kiln <args>`; `onOutput` sees stdout as it grows (e.g. to kill the process mid-run). */
export function runKiln(
  dir: string,
  args: readonly string[],
  opts: { env?: Readonly<Record<string, string>>; onOutput?: (stdout: string, child: ChildProcess) => void } = {},
): Promise<KilnResult> {
  const child = spawnKiln(dir, args, opts.env);
  return collect(child, opts.onOutput);
}

export function collect(child: ChildProcess, onOutput?: (stdout: string, child: ChildProcess) => void): Promise<KilnResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      onOutput?.(stdout, child);
    });
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

export function runResults(dir: string): Map<string, { status: string; rows_affected: number | null; message: string | null }> {
  const doc = JSON.parse(readFileSync(join(dir, 'target/run_results.json'), 'utf8')) as {
    results: Array<{ unique_id: string; status: string; rows_affected: number | null; message: string | null }>;
  };
  return new Map(doc.results.map((r) => [r.unique_id, r]));
}

/** One query against an embedded warehouse folder, from its own process (after kiln exited). */
export function queryEmbedded<T = Record<string, unknown>>(path: string, sql: string): Promise<T[]> {
  const code = `
    import { Session } from 'chdb';
    const [path, sql] = process.argv.slice(1);
    const s = new Session(path);
    try { process.stdout.write(s.query(sql, 'JSONEachRow').toString()); } finally { s.close(); }
  `;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, path, sql], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', (exit) => {
      if (exit !== 0) reject(new Error(`query failed (${sql}): ${err}`));
      else resolvePromise(out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T));
    });
  });
}
