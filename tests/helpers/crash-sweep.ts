import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { REPO_ROOT, runKiln, type KilnResult } from './kiln-cli.js';

/**
 * Crash-point sweeps (issue 12): run a command once cleanly for the expected warehouse, then for
 * every i = 1, 2, … run it with KILN_CRASH_AFTER=i (the process SIGKILLs itself right after its
 * ith statement), rerun it without, and compare the warehouse with the clean run's. The sweep
 * ends at the first i the command outlives: then i - 1 is its statement count S, and every crash
 * point 1..S has been covered.
 *
 * A warehouse is compared as a multiset of rows per relation, minus what differs between any two
 * runs (load ids and load times); the ledger as each file's latest entry; scratch relations
 * (`__kiln_…`) are listed so a leftover shows up as a difference.
 */

/**
 * `KILN_SWEEPS=all` adds the extended sweeps (a second full-refresh variant, --prune, reloads and
 * refreshes on the server, a table rebuild, a new column): `npm test` runs the ones issue 12 asks
 * for (each loader, full refresh, seed, table, each incremental strategy, full refresh of an
 * incremental; stage and incremental on the server) so the suite stays within minutes.
 */
export const ALL_SWEEPS = process.env.KILN_SWEEPS === 'all';

/** Expects a sweep without failures over at least `atLeast` crash points, and prints its count for the note. */
export function reportSweep(name: string, sweep: SweepResult, atLeast: number): void {
  console.log(`${name}: ${sweep.points} crash points`);
  expect(sweep.failures).toEqual([]);
  expect(sweep.points).toBeGreaterThanOrEqual(atLeast);
}

/** A CSV source over data/*.csv, and two versions of data/x.csv (each with a malformed record): the staging sweeps' data. */
export const CSV_SWEEP = {
  sources: `sources:
  - name: s
    loader: csv
    tables:
      - name: t
        path: data/*.csv
`,
  xOld: 'id,name\n1,ann\n2,bob,extra\n3,cy\n',
  xNew: 'id,name\n1,ann\n3,cy\n4,dee\n5,eve,extra\n',
} as const;

/** Relation → its rows, each a JSON text with sorted keys, sorted. */
export type WarehouseView = Readonly<Record<string, readonly string[]>>;

export interface SweepScenario {
  /** Makes the project in its starting state (it may run kiln to get there); called once. */
  readonly prepare: () => Promise<string>;
  /** The command swept, e.g. `['stage', '--full-refresh']`. */
  readonly args: readonly string[];
  /**
   * Keep validation before any change on for build/run/seed. Off by default: its statements only
   * touch a shadow database and are swept once, by tests/sweeps/validation.sweep.test.ts, so the
   * other sweeps' crash points are their commands' own.
   */
  readonly validate?: boolean;
  /** What the operator runs after the crash; defaults to `args`. */
  readonly rerun?: readonly string[];
  /** Environment of every kiln run (a server's URL…). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Puts the warehouse back in the starting state before each run. The default, for embedded
   * targets, copies the project's `.kiln/` and `target/` folders back from a copy made after
   * `prepare`; a server scenario resets its databases itself.
   */
  readonly restore?: (dir: string) => Promise<void>;
  /** Reads the warehouse; defaults to the embedded folder `.kiln/dev` of the project. */
  readonly view?: (dir: string) => Promise<WarehouseView>;
  /**
   * Called with the warehouse as the crash left it, before the rerun: checks what a reader sees
   * at that moment. Returns a problem, or null.
   */
  readonly afterCrash?: (dir: string, point: number) => Promise<string | null>;
  /**
   * Relations (`database.name`) that a crash must leave either as they were before the command or
   * as the clean run left them, never in between: a reader sees the change whole or not at all.
   * Checked after every crash, before the rerun.
   */
  readonly atomic?: readonly string[];
  /** Stop after this many crash points (a guard against a command that never ends). */
  readonly maxPoints?: number;
  /**
   * Kill after every `stride`th statement only (1, 1 + stride, …) unless KILN_SWEEPS=all: for a
   * command of dozens of statements, whose every point `npm test` cannot afford on a loaded box.
   */
  readonly stride?: number;
}

export interface SweepResult {
  /** The crash points covered: every statement the command sent, or every stride-th one. */
  readonly points: number;
  /** Crash points whose rerun failed or left a warehouse unlike the clean run's. */
  readonly failures: ReadonlyArray<{ readonly point: number; readonly problem: string }>;
}

const SAVED = ['.kiln', 'target'];

export async function crashSweep(s: SweepScenario): Promise<SweepResult> {
  const dir = await s.prepare();
  const env = s.env ?? {};
  const view = s.view ?? ((d: string) => embeddedView(join(d, '.kiln/dev')));
  const restore = s.restore ?? snapshotFolders(dir);
  const flagged = (args: readonly string[]) => (s.validate || !['build', 'run', 'seed'].includes(args[0] ?? '') ? args : [...args, '--no-validate']);
  const args = flagged(s.args);
  const rerun = flagged(s.rerun ?? s.args);

  await restore(dir);
  const start = s.atomic?.length ? await view(dir) : {};
  const clean = await runKiln(dir, args, { env });
  if (clean.code !== 0) throw new Error(`the clean run failed:\n${clean.stdout}\n${clean.stderr}`);
  const expected = await view(dir);

  const failures: Array<{ point: number; problem: string }> = [];
  const stride = ALL_SWEEPS ? 1 : Math.max(1, s.stride ?? 1);
  let covered = 0;
  for (let point = 1; point <= (s.maxPoints ?? 1000); point += stride) {
    await restore(dir);
    const crashed = await runKiln(dir, args, { env: { ...env, KILN_CRASH_AFTER: String(point) } });
    if (!killed(crashed)) {
      if (crashed.code !== 0) failures.push({ point, problem: `with fewer statements than ${point}, the run failed:\n${crashed.stderr}` });
      return { points: covered, failures };
    }
    covered++;
    const seen = s.afterCrash ? await s.afterCrash(dir, point) : null;
    if (seen) failures.push({ point, problem: `after the crash: ${seen}` });
    if (s.atomic?.length) {
      const torn = halfDone(s.atomic, start, expected, await view(dir));
      if (torn) failures.push({ point, problem: `right after the crash, ${torn}` });
    }
    const again = await runKiln(dir, rerun, { env });
    if (again.code !== 0) {
      failures.push({ point, problem: `rerun exited ${again.code}:\n${again.stdout}\n${again.stderr}` });
      continue;
    }
    const problem = difference(expected, await view(dir));
    if (problem) failures.push({ point, problem });
  }
  throw new Error(`the command still crashed after ${s.maxPoints ?? 1000} statements`);
}

const killed = (r: KilnResult): boolean => r.signal === 'SIGKILL' || r.code === 137;

function snapshotFolders(dir: string): (d: string) => Promise<void> {
  const copy = `${dir}.start`;
  rmSync(copy, { recursive: true, force: true });
  for (const f of SAVED) if (existsSync(join(dir, f))) cpSync(join(dir, f), join(copy, f), { recursive: true });
  return async (d) => {
    for (const f of SAVED) {
      rmSync(join(d, f), { recursive: true, force: true });
      if (existsSync(join(copy, f))) cpSync(join(copy, f), join(d, f), { recursive: true });
    }
  };
}

/** The first relation whose rows differ, described for a failure message; null when equal. */
export function difference(expected: WarehouseView, got: WarehouseView): string | null {
  const names = [...new Set([...Object.keys(expected), ...Object.keys(got)])].sort();
  for (const name of names) {
    const want = expected[name];
    const have = got[name];
    if (!want) return `${name} should not exist (${have!.length} rows)`;
    if (!have) return `${name} is missing`;
    const extra = multisetMinus(have, want);
    const missing = multisetMinus(want, have);
    if (extra.length > 0 || missing.length > 0) {
      return `${name}: ${have.length} rows, expected ${want.length}; extra ${extra.slice(0, 3).join(' ')}; missing ${missing.slice(0, 3).join(' ')}`;
    }
  }
  return null;
}

/** The first of `names` that is neither as in `before` nor as in `after`, described; null when none. */
function halfDone(names: readonly string[], before: WarehouseView, after: WarehouseView, got: WarehouseView): string | null {
  const only = (v: WarehouseView, name: string): WarehouseView => (v[name] ? { [name]: v[name] } : {});
  for (const name of names) {
    const asAfter = difference(only(after, name), only(got, name));
    if (asAfter && difference(only(before, name), only(got, name))) return `${name} is neither as before the command nor as after it (${asAfter})`;
  }
  return null;
}

function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const x of b) counts.set(x, (counts.get(x) ?? 0) + 1);
  const out: string[] = [];
  for (const x of a) {
    const n = counts.get(x) ?? 0;
    if (n > 0) counts.set(x, n - 1);
    else out.push(x);
  }
  return out;
}

/** Columns whose values differ between two runs that did the same work. */
const VOLATILE = new Set(['_kiln_load_id', '_kiln_loaded_at', 'seq', 'loaded_at']);
// `_kiln` holds target locks and the tombstones of broken ones: bookkeeping, not warehouse data (a
// crashed run's lock is broken by the rerun and leaves a tombstone by design).
const SYSTEM_DATABASES = new Set(['system', 'INFORMATION_SCHEMA', 'information_schema', 'default', '_temporary_and_external_tables', '_kiln']);

export interface RelationRows {
  readonly database: string;
  readonly name: string;
  readonly rows: ReadonlyArray<Record<string, unknown>>;
}

/** Normalizes what was read from a warehouse into a view (see the file comment). */
export function toView(relations: readonly RelationRows[]): WarehouseView {
  const view: Record<string, string[]> = {};
  for (const r of relations) {
    if (SYSTEM_DATABASES.has(r.database)) continue;
    let rows = r.rows;
    if (r.name === '_kiln_ledger') rows = latestPerFile(rows);
    view[`${r.database}.${r.name}`] = rows.map(stableJson).sort();
  }
  return view;
}

function latestPerFile(rows: ReadonlyArray<Record<string, unknown>>): Array<Record<string, unknown>> {
  const latest = new Map<string, Record<string, unknown>>();
  for (const row of rows) {
    const key = `${row.source_name}\u0000${row.table_name}\u0000${row.file}`;
    const prior = latest.get(key);
    if (!prior || BigInt(String(row.seq)) > BigInt(String(prior.seq))) latest.set(key, row);
  }
  return [...latest.values()];
}

function stableJson(row: Record<string, unknown>): string {
  const keys = Object.keys(row).filter((k) => !VOLATILE.has(k)).sort();
  return JSON.stringify(keys.map((k) => [k, row[k]]));
}

/** Every relation of an embedded warehouse folder with its rows, read by one child process. */
export function embeddedView(path: string): Promise<WarehouseView> {
  // chdb binds one folder per process, so the reading happens in a short-lived child of its own.
  const code = `
    import { Session } from 'chdb';
    const s = new Session(process.argv[1]);
    try {
      const list = s.query("SELECT database, name FROM system.tables WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema', 'default')", 'JSONEachRow').toString();
      const out = [];
      for (const line of list.split('\\n').filter(Boolean)) {
        const t = JSON.parse(line);
        const q = 'SELECT * FROM \`' + t.database + '\`.\`' + t.name + '\`';
        const rows = s.query(q, 'JSONEachRow').toString().split('\\n').filter(Boolean).map((l) => JSON.parse(l));
        out.push({ database: t.database, name: t.name, rows });
      }
      process.stdout.write(JSON.stringify(out));
    } finally { s.close(); }
  `;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, path], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
    child.on('error', reject);
    child.on('close', (exit) => {
      if (exit !== 0) reject(new Error(`reading ${path} failed: ${err}`));
      else resolvePromise(toView(JSON.parse(out) as RelationRows[]));
    });
  });
}

/** Where a ClickHouse server is, for a server scenario's `view` and `restore`. */
export interface ServerAccess {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

async function serverQuery(s: ServerAccess, sql: string): Promise<string> {
  const res = await fetch(s.url, {
    method: 'POST',
    body: sql,
    headers: { Authorization: `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}` },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${sql}: HTTP ${res.status}: ${text.trim()}`);
  return text;
}

/** A server scenario's `view`: every relation of `databases` with its rows, read over HTTP. */
export function serverView(s: ServerAccess, databases: readonly string[]): () => Promise<WarehouseView> {
  return async () => {
    const list = databases.map((d) => `'${d}'`).join(', ');
    const tables = (await serverQuery(s, `SELECT database, name FROM system.tables WHERE database IN (${list}) FORMAT JSONEachRow`))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { database: string; name: string });
    const out: RelationRows[] = [];
    for (const t of tables) {
      const text = await serverQuery(s, `SELECT * FROM \`${t.database}\`.\`${t.name}\` FORMAT JSONEachRow`);
      out.push({ ...t, rows: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) });
    }
    return toView(out);
  };
}

/** Drops `databases` on the server (the start of a server scenario's `restore`). */
export async function dropServerDatabases(s: ServerAccess, databases: readonly string[]): Promise<void> {
  for (const d of databases) await serverQuery(s, `DROP DATABASE IF EXISTS \`${d}\``);
}

/**
 * A view without the ledger's full-refresh marks (entries with an empty file), for a full refresh
 * rerun as a plain `stage`: killed before its first mark, the refresh never began, so the plain
 * run rightly leaves no mark; rows, rejects and the files' entries must still match.
 */
export function withoutRefreshMarks(view: (dir: string) => Promise<WarehouseView>): (dir: string) => Promise<WarehouseView> {
  return async (dir) => {
    const v = await view(dir);
    const out: Record<string, readonly string[]> = {};
    for (const [name, rows] of Object.entries(v)) {
      out[name] = name.endsWith('._kiln_ledger') ? rows.filter((r) => !(JSON.parse(r) as Array<[string, unknown]>).some(([k, x]) => k === 'file' && x === '')) : rows;
    }
    return out;
  };
}
