import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { removeProjects, runKiln, runResults, startKiln, writeProject, type KilnResult, type RunningKiln } from '../helpers/kiln-cli.js';
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
/**
 * Source rows of the interrupted runs, and the seconds each sleeps in the model's INSERT: 2.8 s in
 * all, just under the server's limit of 3 s of sleepEachRow per block.
 */
const N = 40;
const SLOW = 0.07;

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
  const srvEnv = (db: string) => ({ KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password, KILN_TEST_DB: db });
  const kiln = (dir: string, db: string, args: string[]): Promise<KilnResult> => runKiln(dir, [...args, '--target', 'srv'], { env: srvEnv(db) });
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

  const insertsRunning = async (db: string): Promise<number> => {
    const [row] = await query<{ n: string }>(
      `SELECT toString(count()) AS n FROM system.processes WHERE query LIKE 'INSERT INTO%' AND position(query, 'sleepEachRow') > 0 AND position(query, '${db}') > 0`,
    );
    return Number(row?.n ?? 0);
  };
  const waitUntil = async (what: string, done: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + 60_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within 60 s`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /**
   * Starts a slow incremental run (every source row sleeps `SLOW` s in the model's INSERT … SELECT)
   * and resolves once the server lists that INSERT in system.processes: from then on the run is
   * busy for at least the rows' sleep, so an interruption lands in the middle of the insert.
   */
  async function slowInsertRunning(dir: string, db: string): Promise<RunningKiln> {
    // A killed kiln's INSERT goes on on the server: let it end, so the one seen next is this run's.
    await waitUntil('the INSERT of an earlier run ended', async () => (await insertsRunning(db)) === 0);
    const run = startKiln(dir, ['run', ...vars({ n: N, ver: 2, slow: SLOW }), '--target', 'srv'], { env: srvEnv(db) });
    await waitUntil(`the run's INSERT in system.processes`, async () => {
      if (run.child.exitCode !== null || run.child.signalCode !== null) throw new Error(`the run ended before its INSERT was seen:\n${run.output()}`);
      return (await insertsRunning(db)) > 0;
    });
    return run;
  }

  async function assertConverged(dir: string, db: string, strategy: Strategy): Promise<void> {
    ok(await kiln(dir, db, ['run', ...vars({ n: N, ver: 2 })]));
    const got = await contents(db, MODEL_OF[strategy]);
    expect(got.rows, 'no duplicate').toBe(got.ids.size);
    expect([...got.ids.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    if (strategy === 'append') expect(got.ids).toEqual(expectedAfter('append', initial(20, 1), N, 2));
    expect(await leftovers(db)).toEqual([]);
  }

  // Kill points inside the slow INSERT: as soon as the server lists it, and well into it.
  it.each(STRATEGIES)('%s: kiln killed mid-run, then run again', async (strategy) => {
    const db = newDb();
    const dir = writeProject(incrementalProject([strategy]));
    ok(await kiln(dir, db, ['run']));
    for (const delayMs of [0, 1_000]) {
      const run = await slowInsertRunning(dir, db);
      await new Promise((r) => setTimeout(r, delayMs));
      run.child.kill('SIGKILL');
      const r = await run.done;
      expect(r.signal, `killed while running (${delayMs} ms into the insert):\n${run.output()}`).toBe('SIGKILL');
      const mid = await contents(db, MODEL_OF[strategy]);
      expect(mid.rows, 'no duplicate after a kill').toBe(mid.ids.size);
    }
    await assertConverged(dir, db, strategy);
  }, 120_000);

  it.each(STRATEGIES)('%s: clickhouse-server crashed mid-insert, restarted, then run again', async (strategy) => {
    const db = newDb();
    const dir = writeProject(incrementalProject([strategy]));
    ok(await kiln(dir, db, ['run']));
    const run = await slowInsertRunning(dir, db);
    await server.restart({ crash: true });
    const r = await run.done;
    expect(r.code, `the run fails when the server goes away:\n${r.stdout}${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/ERROR/);
    const mid = await contents(db, MODEL_OF[strategy]);
    expect(mid.rows, 'no duplicate after the crash').toBe(mid.ids.size);
    await assertConverged(dir, db, strategy);
  }, 120_000);
});
