import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Inline-project tests: write a small project into a temp folder, run the real CLI on it as a
 * subprocess (`node bin/kiln.js`, built by `npm run build`), and read what it left behind.
 */

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KILN_BIN = join(REPO_ROOT, 'bin/kiln.js');

export type ProjectFiles = Readonly<Record<string, string>>;

const made: string[] = [];

/** A fresh temp folder holding `files` (paths relative to it). Removed by `removeProjects()`. */
export function writeProject(files: ProjectFiles, prefix = 'kiln-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: ProjectFiles): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

export function removeProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A project.yml with an embedded dev target in `.kiln/dev`, plus `extra` YAML lines. */
export function projectYml(name = 'proj', extra = ''): string {
  return `name: ${name}
target: dev
targets:
  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }
${extra}`;
}

export interface KilnResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Extra environment variables (merged over a clean copy of this process's environment). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Called once the process has started, e.g. to kill it mid-run. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** Runs `kiln <args>` with `--project-dir dir` (unless dir is null) and collects its output. */
export function runKiln(dir: string | null, args: readonly string[], opts: RunOptions = {}): Promise<KilnResult> {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  }
  const argv = [KILN_BIN, ...args, ...(dir === null ? [] : ['--project-dir', dir])];
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: undefined, KILN_TARGET: undefined };
  for (const [k, v] of Object.entries(opts.env ?? {})) env[k] = v;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, argv, { cwd: opts.cwd ?? dir ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    opts.onSpawn?.(child);
  });
}

/** stdout and stderr together, for "appears nowhere" assertions. */
export const allOutput = (r: KilnResult): string => `${r.stdout}\n${r.stderr}`;

export function readJson<T = any>(dir: string, rel: string): T {
  return JSON.parse(readFileSync(join(dir, rel), 'utf8')) as T;
}

export interface RunResultEntry {
  readonly unique_id: string;
  readonly status: string;
  readonly rows_affected: number | null;
  readonly message: string | null;
  readonly execution_time: number;
  readonly thread_id: string;
}

/** unique_id → entry of target/run_results.json. */
export function runResults(dir: string): Map<string, RunResultEntry> {
  const doc = readJson<{ results: RunResultEntry[] }>(dir, 'target/run_results.json');
  return new Map(doc.results.map((r) => [r.unique_id, r]));
}

/**
 * Queries an embedded warehouse folder once the CLI has exited. chdb binds one data folder per
 * process, so each query runs in a short-lived node process of its own (it also never holds the
 * folder while kiln runs).
 */
export function queryWarehouse<T = Record<string, unknown>>(path: string, sql: string): Promise<T[]> {
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

/** Names of the tables and views in `database` of an embedded warehouse, sorted. */
export async function relationNames(path: string, database: string): Promise<string[]> {
  const rows = await queryWarehouse<{ name: string }>(path, `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
  return rows.map((r) => r.name);
}

/** Lines that look like a JavaScript stack frame: never shown without --debug. */
export const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)|^\s+at file:\/\//m;
