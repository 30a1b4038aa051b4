import { spawn } from 'node:child_process';
import { Adapter } from '../../src/adapters/adapter.js';
import { loadProject } from '../../src/project/load-project.js';
import { REPO_ROOT } from './kiln-cli.js';

/**
 * Reading back what a test's kiln wrote.
 *
 * `queryWarehouse` opens an embedded warehouse folder in a short-lived node process of its own:
 * chdb binds one data folder per process, so the test process never holds the folder a kiln
 * subprocess needs. Use it after the CLI has exited.
 *
 * `withTarget`/`queryTarget` open a project's target (embedded or server) through kiln's own
 * Adapter in this process, for tests that also drive kiln through its API in this process.
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

/** Names of the tables and views in `database` of an embedded warehouse folder, sorted. */
export async function relationNames(path: string, database: string): Promise<string[]> {
  const rows = await queryWarehouse<{ name: string }>(path, `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
  return rows.map((r) => r.name);
}

export interface TargetOptions {
  /** Environment for the project's env_var() calls (e.g. a server's URL). */
  readonly env?: Record<string, string>;
}

/** Calls `fn` with an adapter on the project's target, opened only for the callback. */
export async function withTarget<T>(dir: string, fn: (adapter: Adapter) => Promise<T>, opts: TargetOptions = {}): Promise<T> {
  const project = loadProject({ projectDir: dir, ...(opts.env ? { env: opts.env } : {}) });
  const adapter = await Adapter.connect(project.target);
  try {
    return await fn(adapter);
  } finally {
    await adapter.close();
  }
}

export async function queryTarget<T = Record<string, unknown>>(dir: string, sql: string, opts: TargetOptions = {}): Promise<T[]> {
  return withTarget(dir, async (a) => (await a.query<T>(sql)).rows, opts);
}
