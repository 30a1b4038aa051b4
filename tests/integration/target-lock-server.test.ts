import { hostname } from 'node:os';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { killChild } from '../harness/child-process.js';
import { removeProjects, runKiln, startKiln, writeProject, type KilnResult, type RunningKiln } from '../helpers/kiln-cli.js';
import { queryTarget, withTarget } from '../helpers/warehouse.js';
import { openTransport, type Adapter } from '../../src/adapters/adapter.js';
import { encodeHolder, type LockHolder } from '../../src/adapters/lock-holder.js';
import { ServerLock } from '../../src/adapters/server-lock.js';
import * as lockSql from '../../src/adapters/target-lock-sql.js';
import { WrappingDriver, type DriverCall } from '../../src/adapters/wrapping-driver.js';
import type { Driver } from '../../src/adapters/driver.js';

afterAll(removeProjects);

/**
 * Two real kiln processes against one clickhouse-server 18.16 target. Overlap is made certain
 * without timing: the first run is frozen with SIGSTOP once it holds the lock (and, where it
 * matters, once its scratch tables exist), the second runs against it, then SIGCONT lets the
 * first finish.
 */

const TARGET = `dev: { engine: clickhouse, url: "{{ env_var('CH_URL') }}", username: "{{ env_var('CH_USER') }}", password: "{{ env_var('CH_PASSWORD') }}", database: "{{ env_var('DB') }}", raw_database: "{{ env_var('RAW_DB') }}" }`;
const ROWS = 200_000;
const bigCsv = (): string => `id,name\n${Array.from({ length: ROWS }, (_, i) => `${i + 1},n${i % 97}`).join('\n')}\n`;

function project(): string {
  return writeProject(
    {
      'project.yml': `name: locks\nversion: 1\ntarget: dev\ntargets:\n  ${TARGET}\n`,
      'sources.yml': `sources:\n  - name: ex\n    loader: csv\n    tables:\n      - name: items\n        path: "data/items*.csv"\n        columns: [{ name: id, type: UInt32 }, { name: name, type: String }]\n`,
      'data/items.csv': bigCsv(),
      'data/items2.csv': 'id,name\n900001,x\n900002,y\n',
      // --vars '{slow: true}': a pre-hook the frozen-holder test catches the run in, with statements still to come.
      'models/dim_items.sql': "{{ config(materialized='table', order_by='id', pre_hook=(['SELECT sleep(2) AS slow_hook'] if var('slow', false) else [])) }}\nSELECT id, name FROM {{ source('ex', 'items') }}\n",
      'models/fct_items.sql':
        "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete_insert', order_by='id') }}\nSELECT id, name FROM {{ ref('dim_items') }}\n{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}\n",
      'models/schema.yml': 'models:\n  - name: dim_items\n    columns:\n      - name: id\n        data_tests:\n          - not_null: { config: { store_failures: true } }\nunit_tests:\n  - name: passes_rows\n    model: dim_items\n    given:\n      - input: source(\'ex\', \'items\')\n        rows: [{ id: 1, name: a }]\n    expect:\n      rows: [{ id: 1, name: a }]\n',
    },
    'kiln-lock-',
  );
}

const LOCKED = (pid: number | undefined, command: string) =>
  new RegExp(`target 'dev' is locked by ${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} pid ${pid} \\(kiln ${command}, since \\d\\d:\\d\\d:\\d\\d\\)`);

/** Runs `between` once, right after the first query it passes on: another run acting between two of this one's reads. */
class BetweenReads extends WrappingDriver {
  private done = false;
  constructor(
    inner: Driver,
    private readonly between: () => Promise<void>,
  ) {
    super(inner, true);
  }
  protected async around<R>(call: DriverCall, run: () => Promise<R>): Promise<R> {
    const result = await run();
    if (call.method === 'query' && !this.done) {
      this.done = true;
      await this.between();
    }
    return result;
  }
}

/** A lock holder whose lease ran out long ago, on another machine. */
const EXPIRED: LockHolder = { host: 'elsewhere', pid: 1, command: 'kiln build', startedAt: '2020-01-01T00:00:00.000Z', runId: 'expired-run', machine: 'elsewhere' };

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithClickHouse('the target run lock on a ClickHouse 18.16 server', (getClickHouse) => {
  let n = 0;
  const setup = () => {
    n++;
    const s = getClickHouse();
    const env = { CH_URL: s.url, CH_USER: s.username, CH_PASSWORD: s.password, DB: `an${n}`, RAW_DB: `raw${n}` };
    return { dir: project(), env, db: `an${n}`, raw: `raw${n}` };
  };
  const q = <T = Record<string, unknown>>(dir: string, env: Record<string, string>, sql: string) => queryTarget<T>(dir, sql, { env });
  const count = async (dir: string, env: Record<string, string>, table: string) => Number((await q<{ n: string }>(dir, env, `SELECT count() AS n FROM ${table}`))[0]!.n);
  const scratch = async (dir: string, env: Record<string, string>, dbs: string[]) =>
    (await q<{ name: string }>(dir, env, `SELECT name FROM system.tables WHERE database IN (${dbs.map((d) => `'${d}'`).join(', ')}) AND startsWith(name, '__kiln_')`)).map((r) => r.name);
  const lockExists = async (dir: string, env: Record<string, string>, db: string) =>
    Number((await q<{ n: string }>(dir, env, `SELECT count() AS n FROM system.tables WHERE database = '_kiln' AND name = 'lock__${db}'`))[0]!.n) === 1;

  /** Polls until `ready()` holds (each poll is a query, so this is not a timing assertion). */
  async function until(ready: () => Promise<boolean>, what: string, running?: RunningKiln): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      if (await ready()) return;
      if (running && running.child.exitCode !== null) throw new Error(`${what}: the run ended first:\n${running.output()}`);
      await pause(25);
    }
    throw new Error(`never: ${what}`);
  }

  const freeze = (k: RunningKiln) => k.child.kill('SIGSTOP');
  /** A frozen run's last statement may still be running on the server: wait until no DDL is. */
  const settled = async (dir: string, env: Record<string, string>) => {
    const ddlRunning = async () =>
      Number((await q<{ n: string }>(dir, env, "SELECT count() AS n FROM system.processes WHERE query LIKE 'DROP%' OR query LIKE 'CREATE%' OR query LIKE 'RENAME%'"))[0]!.n) > 0;
    for (let quiet = 0; quiet < 2; ) {
      quiet = (await ddlRunning()) ? 0 : quiet + 1;
      await pause(100);
    }
  };
  const thaw = (k: RunningKiln) => k.child.kill('SIGCONT');

  function expectRefused(r: KilnResult, holder: RunningKiln, command: string): void {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(LOCKED(holder.child.pid, command));
    expect(r.stderr).toMatch(/hint: .*--wait.*kiln unlock/);
  }

  it('two kiln stage: the second, started while the first is mid-file, is refused (exit 2) and drops none of its scratch tables; read-only commands run (a test storing failures is a writer); --wait waits and then loads nothing twice', async () => {
    const { dir, env, db, raw } = setup();
    const first = startKiln(dir, ['stage', '--threads', '1'], { env });
    await until(async () => (await scratch(dir, env, [raw])).length > 0, 'a scratch table of the first run', first);
    freeze(first);
    await settled(dir, env);
    const live = await scratch(dir, env, [raw]);
    expect(await lockExists(dir, env, db)).toBe(true);

    const second = await runKiln(dir, ['stage', '--threads', '1'], { env });
    expectRefused(second, first, 'stage');
    // Read-only commands take no lock on a server, and clean up nothing of the live run.
    for (const args of [['compile'], ['ls'], ['freshness'], ['test', '--select', 'test_type:unit'], ['show', 'dim_items', '--limit', '1'], ['docs', 'generate']]) {
      const r = await runKiln(dir, args, { env });
      expect(r.stderr, `${args.join(' ')}: ${r.stdout}${r.stderr}`).not.toMatch(/is locked by/);
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    expect(await scratch(dir, env, [raw]), 'the frozen run\'s scratch tables are all still there').toEqual(expect.arrayContaining(live));
    // A test that stores its failures writes a table: it is a writer, and waits its turn.
    expectRefused(await runKiln(dir, ['test', '--select', 'test_type:data'], { env }), first, 'stage');

    const waiting = startKiln(dir, ['stage', '--threads', '1', '--wait', '600'], { env });
    await waiting.waitFor(/is locked by .*; waiting up to 600 s/);
    thaw(first);
    const [a, b] = [await first.done, await waiting.done];
    expect(b.code, b.stdout + b.stderr).toBe(0);
    if (a.code === 0) expect(b.stdout).toMatch(/ex\.items: 2 file\(s\) \(2 unchanged\), 0 row\(s\) loaded/);
    // Frozen for long mid-INSERT (a loaded machine), the first run's stream can be cut by the
    // server; then the waiting run loads what the first did not, and still nothing twice.
    else expect(a.stdout + a.stderr).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    expect(await count(dir, env, `${raw}.ex__items`)).toBe(ROWS + 2);
    expect(await q(dir, env, `SELECT file, count() AS n FROM ${raw}._kiln_ledger GROUP BY file ORDER BY file`)).toHaveLength(2);
    expect(await scratch(dir, env, [raw, db])).toEqual([]);
    expect(await lockExists(dir, env, db)).toBe(false);
  });

  it('two kiln stage started together: one loads, the other is refused or finds nothing to load; every row exactly once', async () => {
    const { dir, env, db, raw } = setup();
    const [a, b] = await Promise.all([runKiln(dir, ['stage'], { env }), runKiln(dir, ['stage'], { env })]);
    const loaded = [a, b].filter((r) => /ex\.items: 2 file\(s\) \(0 unchanged\), 200002 row\(s\) loaded/.test(r.stdout));
    expect(loaded, `${a.stdout}${a.stderr}\n---\n${b.stdout}${b.stderr}`).toHaveLength(1);
    const other = loaded[0] === a ? b : a;
    if (other.code === 2) expect(other.stderr).toMatch(/target 'dev' is locked by .* pid \d+ \(kiln stage, since /);
    else expect(other.stdout).toMatch(/2 unchanged\), 0 row\(s\) loaded/);
    expect(await count(dir, env, `${raw}.ex__items`)).toBe(ROWS + 2);
    expect(await scratch(dir, env, [raw, db])).toEqual([]);
    // With --wait both succeed, one after the other, and still nothing is loaded twice.
    const [c, d] = await Promise.all([runKiln(dir, ['build', '--wait'], { env }), runKiln(dir, ['build', '--wait'], { env })]);
    expect(c.code, c.stderr).toBe(0);
    expect(d.code, d.stderr).toBe(0);
    expect(await count(dir, env, `${raw}.ex__items`)).toBe(ROWS + 2);
    expect(await count(dir, env, `${db}.dim_items`)).toBe(ROWS + 2);
    expect(await q(dir, env, `SELECT count() AS n, uniqExact(id) AS k FROM ${db}.fct_items`)).toEqual([{ n: String(ROWS + 2), k: String(ROWS + 2) }]);
  });

  it('two kiln build, in both orders: the one that comes second while the other holds the lock is refused; counts and keys exact afterwards', async () => {
    const { dir, env, db, raw } = setup();
    for (const [firstCmd, secondCmd] of [['build', 'stage'], ['stage', 'build'], ['build', 'build']] as const) {
      const first = startKiln(dir, [firstCmd, '--threads', '1'], { env });
      await until(() => lockExists(dir, env, db), 'the first run holds the lock', first);
      freeze(first);
      expectRefused(await runKiln(dir, [secondCmd], { env }), first, firstCmd);
      thaw(first);
      const r = await first.done;
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect(await count(dir, env, `${raw}.ex__items`)).toBe(ROWS + 2);
    expect(await count(dir, env, `${db}.dim_items`)).toBe(ROWS + 2);
    expect(await q(dir, env, `SELECT count() AS n, uniqExact(id) AS k FROM ${db}.fct_items`)).toEqual([{ n: String(ROWS + 2), k: String(ROWS + 2) }]);
    expect(await scratch(dir, env, [raw, db])).toEqual([]);
  });

  it('a killed holder: its lock is taken over at once on its own machine (its pid is gone); kiln unlock releases a lock and says whose it was', async () => {
    const { dir, env, db, raw } = setup();
    const first = startKiln(dir, ['stage', '--threads', '1'], { env });
    await until(async () => (await scratch(dir, env, [raw])).length > 0, 'a scratch table of the first run', first);
    await killChild(first.child);
    expect(await lockExists(dir, env, db)).toBe(true);
    const next = await runKiln(dir, ['stage'], { env });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stdout + next.stderr).toMatch(new RegExp(`took over the lock on target 'dev' from .* pid ${first.child.pid} \\(kiln stage, since .*\\): its process is gone`));
    expect(await count(dir, env, `${raw}.ex__items`)).toBe(ROWS + 2);
    expect(await scratch(dir, env, [raw, db])).toEqual([]);

    // kiln unlock: a frozen holder's lock is released on request, naming the holder; the holder then stops before its next statement.
    const held = startKiln(dir, ['run', '--threads', '1'], { env });
    await until(() => lockExists(dir, env, db), 'the run holds the lock', held);
    freeze(held);
    const un = await runKiln(dir, ['unlock', '--target', 'dev'], { env });
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toMatch(new RegExp(`released the lock on target 'dev' held by .* pid ${held.child.pid} \\(kiln run, since \\d\\d:\\d\\d:\\d\\d\\)`));
    expect(await lockExists(dir, env, db)).toBe(false);
    expect((await runKiln(dir, ['unlock'], { env })).stdout).toMatch(/target 'dev' is not locked/);
    thaw(held);
    const r = await held.done;
    // It may have finished the statement it was in; it sends no other.
    if (r.code !== 0) expect(r.stdout + r.stderr).toMatch(/lost the lock on target 'dev' \(it was removed\); stopped before the next statement/);
  });

  it('a frozen holder: its lock stays until the lease (KILN_LOCK_LEASE_SECONDS) runs out, then a waiting run takes over; the old holder stops with a clear error when it wakes', async () => {
    const { dir, env, db, raw } = setup();
    expect((await runKiln(dir, ['stage'], { env })).code).toBe(0);
    const short = { ...env, KILN_LOCK_LEASE_SECONDS: '3' };
    // `run` sends no streamed INSERT, so freezing it cannot get its connection cut by the server.
    const first = startKiln(dir, ['run', '--threads', '1', '--vars', '{slow: true}'], { env: short });
    await until(() => lockExists(dir, env, db), 'the first run holds the lock', first);
    // Frozen in its pre-hook, so it has statements left to send when it wakes (frozen after its
    // last one, it would have nothing to stop).
    await until(async () => (await q(dir, env, "SELECT query FROM system.processes WHERE query LIKE '%slow_hook%' AND query NOT LIKE '%system.processes%'")).length > 0, 'the first run is in its pre-hook', first);
    freeze(first);
    const refused = await runKiln(dir, ['run'], { env: { ...env, KILN_LOCK_LEASE_SECONDS: '600' } });
    expectRefused(refused, first, 'run');
    const next = await runKiln(dir, ['run', '--wait'], { env: short });
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout + next.stderr).toMatch(new RegExp(`took over the lock on target 'dev' from .* pid ${first.child.pid} \\(kiln run, since .*\\): no heartbeat for over 3 s`));
    thaw(first);
    const late = await first.done;
    expect(late.code, late.stdout + late.stderr).toBe(1);
    expect(late.stdout + late.stderr).toMatch(/lost the lock on target 'dev' \((it was removed|it is now held by .*)\); stopped before the next statement/);
    // A clean run afterwards: every row once, no scratch table left.
    expect((await runKiln(dir, ['run'], { env })).code).toBe(0);
    expect(await count(dir, env, `${db}.dim_items`)).toBe(ROWS + 2);
    expect(await q(dir, env, `SELECT count() AS n, uniqExact(id) AS k FROM ${db}.fct_items`)).toEqual([{ n: String(ROWS + 2), k: String(ROWS + 2) }]);
    expect(await scratch(dir, env, [raw, db])).toEqual([]);
  });

  /** An expired lock on `db` (its holder elsewhere, last seen in 2020); `run` gets the target's adapter. */
  const withExpiredLock = (dir: string, env: Record<string, string>, db: string, run: (adapter: Adapter) => Promise<void>) =>
    withTarget(
      dir,
      async (adapter) => {
        await adapter.execute(lockSql.createSystemDatabase(adapter.ddl));
        await adapter.execute(lockSql.createLockTable(adapter.ddl, lockSql.lockRelation(db), encodeHolder(EXPIRED)));
        await run(adapter);
      },
      { env },
    );
  const contender = (runId: string, pid: number): LockHolder => ({ ...EXPIRED, host: 'here', pid, runId, startedAt: new Date().toISOString(), machine: 'here' });
  const lease = { leaseSeconds: 60, machine: 'here', isAlive: () => true };

  it('ten runs breaking one expired lock at once: exactly one gets it, the others are told who', async () => {
    const { dir, env, db } = setup();
    await withExpiredLock(dir, env, db, async (adapter) => {
      const contenders = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const lock = new ServerLock(await openTransport(adapter.target, 1), adapter.ddl, db);
          try {
            const me = contender(`run-${i}`, 1000 + i);
            return { me, result: await lock.tryAcquire(me, lease) };
          } finally {
            await lock.close();
          }
        }),
      );
      const winners = contenders.filter((c) => c.result.acquired);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.me;
      for (const c of contenders) if (!c.result.acquired) expect(c.result.holder?.runId).toBe(winner.runId);
      const state = await new ServerLock(adapter.driver, adapter.ddl, db).read();
      expect(state.holder?.runId).toBe(winner.runId);
    });
  });

  it('a run that reads an expired lock while another breaks and takes it names the new holder, not the expired one', async () => {
    const { dir, env, db } = setup();
    await withExpiredLock(dir, env, db, async (adapter) => {
      // The late run's CREATE fails on the expired lock; right after the first read of it, the
      // quick run breaks that lock, creates its own and beats, all before the late run reads again.
      const quick = new ServerLock(await openTransport(adapter.target, 1), adapter.ddl, db);
      let quickResult: Awaited<ReturnType<ServerLock['tryAcquire']>> | undefined;
      const lateDriver = new BetweenReads(await openTransport(adapter.target, 1), async () => {
        quickResult = await quick.tryAcquire(contender('run-quick', 2001), lease);
      });
      const late = new ServerLock(lateDriver, adapter.ddl, db);
      try {
        const result = await late.tryAcquire(contender('run-late', 2002), lease);
        expect(quickResult?.acquired).toBe(true);
        expect(result).toEqual({ acquired: false, holder: expect.objectContaining({ runId: 'run-quick' }) });
        const state = await late.read();
        expect(state.holder?.runId).toBe('run-quick');
        expect(state.beats).toBeGreaterThan(0);
      } finally {
        await late.close();
        await quick.close();
      }
    });
  });
});
