import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { removeProjects, runKiln, runResults, writeProject, type KilnResult } from '../helpers/kiln-subprocess.js';
import {
  asMap,
  expectedAfter,
  expectedRowsAffected,
  incrementalProject,
  initial,
  MODEL_OF,
  schemaChangeProject,
  STRATEGIES,
  type Strategy,
} from '../helpers/incremental-project.js';

/**
 * The incremental strategies against the oldest server we support (Debian's 18.16: no
 * lightweight DELETE, no EXCHANGE TABLES), including a kill of kiln and a crash of the server
 * in the middle of a run.
 */
describeWithClickHouse('incremental models on a ClickHouse server', (getServer) => {
  let client: ClickHouseClient;
  let server: ClickHouseServer;
  let dbCounter = 0;
  beforeAll(() => {
    server = getServer();
    client = createClient({ url: server.url, username: server.username, password: server.password });
  });
  afterAll(async () => {
    await client?.close();
    removeProjects();
  });

  /** Each test gets its own database on the shared server. */
  const newDb = () => `inc_${process.pid}_${++dbCounter}`;
  type OnOutput = (stdout: string, child: import('node:child_process').ChildProcess) => void;
  const kiln = (dir: string, db: string, args: string[], onOutput?: OnOutput): Promise<KilnResult> =>
    runKiln(dir, [...args, '--target', 'srv'], {
      env: { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password, KILN_TEST_DB: db },
      ...(onOutput ? { onOutput } : {}),
    });
  const ok = (r: KilnResult) => expect(r.code, r.stdout + r.stderr).toBe(0);
  const vars = (v: Record<string, unknown>) => ['--vars', JSON.stringify(v)];
  const query = async <T>(sql: string): Promise<T[]> => (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
  const contents = async (db: string, model: string) => {
    const rows = await query<{ id: string; ver: number }>(`SELECT id, ver FROM ${db}.${model} ORDER BY id`);
    return { ids: asMap(rows), rows: rows.length };
  };
  const leftovers = (db: string) => query(`SELECT name FROM system.tables WHERE database = '${db}' AND name LIKE '\\\\_\\\\_kiln%'`);

  it('runs all three strategies with the right rows and rows_affected', async () => {
    const db = newDb();
    const dir = writeProject(incrementalProject());
    ok(await kiln(dir, db, ['run']));
    let state = new Map<Strategy, Map<number, number>>(STRATEGIES.map((s) => [s, initial(20, 1)]));
    for (const [n, ver] of [[30, 2], [30, 3]] as const) {
      ok(await kiln(dir, db, ['run', ...vars({ n, ver })]));
      const results = runResults(dir);
      const next = new Map<Strategy, Map<number, number>>();
      for (const s of STRATEGIES) {
        const before = state.get(s)!;
        const want = expectedAfter(s, before, n, ver);
        const got = await contents(db, MODEL_OF[s]);
        expect(got.rows, `${s}: no duplicate rows`).toBe(got.ids.size);
        expect(got.ids, s).toEqual(want);
        expect(results.get(`model.inc.${MODEL_OF[s]}`)!.rows_affected, `${s} rows_affected`).toBe(expectedRowsAffected(s, before, n));
        next.set(s, want);
      }
      state = next;
    }
    ok(await kiln(dir, db, ['run', '--full-refresh', ...vars({ n: 25, ver: 4 })]));
    for (const s of STRATEGIES) expect((await contents(db, MODEL_OF[s])).ids).toEqual(initial(25, 4));
    expect(await leftovers(db)).toEqual([]);
  });

  it('on_schema_change: fail, append_new_columns, ignore', async () => {
    const db = newDb();
    const dir = writeProject(schemaChangeProject());
    ok(await kiln(dir, db, ['run']));
    const r = await kiln(dir, db, ['run', ...vars({ n: 30, extra: true })]);
    expect(r.code).toBe(1);
    const results = runResults(dir);
    expect(results.get('model.inc.osc_fail')!.message).toMatch(/on_schema_change is 'fail'/);
    expect(results.get('model.inc.osc_append')!.rows_affected).toBe(10);
    const columns = async (t: string) => (await query<{ name: string }>(`SELECT name FROM system.columns WHERE database = '${db}' AND table = '${t}'`)).map((c) => c.name);
    expect(await columns('osc_fail')).toEqual(['id']);
    expect(await columns('osc_append')).toEqual(['id', 'extra']);
    expect(await columns('osc_ignore')).toEqual(['id']);
    const extra = await query<{ id: string; extra: string }>(`SELECT id, extra FROM ${db}.osc_append WHERE id IN (19, 20, 29) ORDER BY id`);
    expect(extra.map((e) => [Number(e.id), Number(e.extra)])).toEqual([[19, 0], [20, 40], [29, 58]]);
  });

  /** Starts a slow incremental run and calls `interrupt` a while after the models start. */
  async function interrupted(dir: string, db: string, delayMs: number, interrupt: (child: import('node:child_process').ChildProcess) => void): Promise<KilnResult> {
    let timer: NodeJS.Timeout | undefined;
    return kiln(dir, db, ['run', ...vars({ n: 40, ver: 2, slow: 0.05 })], (out, child) => {
      if (!timer && /run: \d+ nodes?/.test(out)) timer = setTimeout(() => interrupt(child), delayMs);
    });
  }

  async function assertConverged(dir: string, db: string, strategy: Strategy): Promise<void> {
    ok(await kiln(dir, db, ['run', ...vars({ n: 40, ver: 2 })]));
    const got = await contents(db, MODEL_OF[strategy]);
    expect(got.rows, 'no duplicate').toBe(got.ids.size);
    expect([...got.ids.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    if (strategy === 'append') expect(got.ids).toEqual(expectedAfter('append', initial(20, 1), 40, 2));
    expect(await leftovers(db)).toEqual([]);
  }

  it.each(STRATEGIES)('%s: kiln killed mid-run, then run again', async (strategy) => {
    const db = newDb();
    const dir = writeProject(incrementalProject([strategy]));
    ok(await kiln(dir, db, ['run']));
    for (const delayMs of [150, 900]) {
      const r = await interrupted(dir, db, delayMs, (child) => child.kill('SIGKILL'));
      expect(r.signal, `killed while running (after ${delayMs} ms)`).toBe('SIGKILL');
      const mid = await contents(db, MODEL_OF[strategy]);
      expect(mid.rows, 'no duplicate after a kill').toBe(mid.ids.size);
    }
    await assertConverged(dir, db, strategy);
  });

  it.each(STRATEGIES)('%s: clickhouse-server crashed mid-insert, restarted, then run again', async (strategy) => {
    const db = newDb();
    const dir = writeProject(incrementalProject([strategy]));
    ok(await kiln(dir, db, ['run']));
    let restarted: Promise<void> | undefined;
    const r = await interrupted(dir, db, 400, () => {
      restarted = server.restart({ crash: true });
    });
    await restarted;
    expect(r.code, 'the run fails when the server goes away').toBe(1);
    expect(r.stdout).toMatch(/ERROR/);
    const mid = await contents(db, MODEL_OF[strategy]);
    expect(mid.rows, 'no duplicate after the crash').toBe(mid.ids.size);
    await assertConverged(dir, db, strategy);
  });
});
