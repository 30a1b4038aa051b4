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
type FileContents = Readonly<Record<string, string | Buffer>>;

const made: string[] = [];

/** A fresh temp folder holding `files` (paths relative to it). Removed by `removeProjects()`. */
export function writeProject(files: FileContents, prefix = 'kiln-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: FileContents): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

/** Removes every folder `writeProject` made in this process (call it in `afterAll`). */
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

export interface KilnOptions {
  /** Extra environment variables, over a copy of this process's environment without KILN_TARGET, GITHUB_ACTIONS and CI. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to the project folder (or the repository when there is none). */
  readonly cwd?: string;
  /** Run as this user and group (the test process must be root), e.g. to meet permissions root would override. */
  readonly user?: { readonly uid: number; readonly gid: number };
}

/** A kiln process still running: its output so far, a way to wait for a line, its result. */
export interface RunningKiln {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** stdout and stderr interleaved as they arrived. */
  readonly output: () => string;
  /**
   * Resolves with the text after `from` once `pattern` matches it; rejects when the process
   * exits first or after `timeoutMs`.
   */
  waitFor(pattern: RegExp, opts?: { readonly stream?: 'stdout' | 'stderr' | 'output'; readonly from?: number; readonly timeoutMs?: number }): Promise<string>;
  readonly done: Promise<KilnResult>;
}

/** Starts `kiln <args>` with `--project-dir dir` (unless dir is null). */
export function startKiln(dir: string | null, args: readonly string[], opts: KilnOptions = {}): RunningKiln {
  if (!existsSync(join(REPO_ROOT, 'dist/cli/kiln.bundle.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it in pretest)');
  }
  const argv = [KILN_BIN, ...args, ...(dir === null ? [] : ['--project-dir', dir])];
  // CI=true would make every run strict (unknown keys are errors): tests that want it set it.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', GITHUB_ACTIONS: undefined, KILN_TARGET: undefined, CI: undefined };
  for (const [k, v] of Object.entries(opts.env ?? {})) env[k] = v;
  const child = spawn(process.execPath, argv, { cwd: opts.cwd ?? dir ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], ...opts.user });

  const text = { stdout: '', stderr: '', output: '' };
  const listeners = new Set<() => void>();
  const append = (stream: 'stdout' | 'stderr') => (s: string) => {
    text[stream] += s;
    text.output += s;
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.setEncoding('utf8').on('data', append('stdout'));
  child.stderr!.setEncoding('utf8').on('data', append('stderr'));
  const done = new Promise<KilnResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolvePromise({ code, signal, stdout: text.stdout, stderr: text.stderr });
      for (const listener of [...listeners]) listener();
    });
  });

  const waitFor: RunningKiln['waitFor'] = (pattern, { stream = 'stdout', from = 0, timeoutMs = 60_000 } = {}) =>
    new Promise((resolvePromise, reject) => {
      const finish = (error: Error | null, value = ''): void => {
        listeners.delete(check);
        clearTimeout(timer);
        if (error) reject(error);
        else resolvePromise(value);
      };
      const check = (): void => {
        const seen = text[stream].slice(from);
        if (pattern.test(seen)) finish(null, seen);
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(new Error(`kiln ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${text.output}`));
        }
      };
      const timer = setTimeout(() => finish(new Error(`no ${pattern} within ${timeoutMs / 1000}s from kiln ${args.join(' ')}:\n${text.output}`)), timeoutMs);
      listeners.add(check);
      check();
    });

  return { child, stdout: () => text.stdout, stderr: () => text.stderr, output: () => text.output, waitFor, done };
}

/** Runs `kiln <args>` to the end and collects its output. */
export function runKiln(dir: string | null, args: readonly string[], opts: KilnOptions = {}): Promise<KilnResult> {
  return startKiln(dir, args, opts).done;
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

/** Lines that look like a JavaScript stack frame: never shown without --debug. */
export const STACK_FRAME = /^\s+at .+\(.+:\d+:\d+\)|^\s+at file:\/\//m;
