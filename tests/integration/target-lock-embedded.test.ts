import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, startKiln, writeProject, type RunningKiln } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

afterAll(removeProjects);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LOCKED = (pid: number | undefined, command: string) =>
  new RegExp(`target 'dev' is locked by ${escape(hostname())} pid ${pid} \\(kiln ${command}, since \\d\\d:\\d\\d:\\d\\d\\)`);

function project(): string {
  return writeProject({
    'project.yml': projectYml('emb'),
    'seeds/nums.csv': 'n\n1\n2\n3\n',
    'models/total.sql': "{{ config(materialized='table') }}\nSELECT sum(n) AS s FROM {{ ref('nums') }}\n",
  });
}

/** A pid that is certainly not running: a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function holding(dir: string, k: RunningKiln): Promise<void> {
  const lock = join(dir, '.kiln/dev/kiln.lock');
  for (let i = 0; i < 4000; i++) {
    if (existsSync(lock) && readFileSync(lock, 'utf8').includes(`"pid":${k.child.pid}`)) return;
    if (k.child.exitCode !== null) throw new Error(`ended before taking the lock:\n${k.output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('never took the lock');
}

describe('the embedded target lock (kiln.lock in the data folder)', () => {
  it('a second process gets the same message as on a server (exit 2), read-only commands too; --wait waits until the first is done', async () => {
    const dir = project();
    const first = startKiln(dir, ['build']);
    await holding(dir, first);
    first.child.kill('SIGSTOP');
    try {
      const run = await runKiln(dir, ['run']);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(LOCKED(first.child.pid, 'build'));
      expect(run.stderr).toMatch(/hint: .*--wait.*kiln unlock.*reads included/);
      // chdb cannot share its folder, so even a read is refused, with the same words.
      const show = await runKiln(dir, ['show', 'total']);
      expect(show.code).toBe(2);
      expect(show.stderr).toMatch(LOCKED(first.child.pid, 'build'));
      // Commands that never open the warehouse are not affected.
      expect((await runKiln(dir, ['compile'])).code).toBe(0);
      expect((await runKiln(dir, ['unlock'])).stderr).toMatch(/is locked by .* which is still running/);

      const waiting = startKiln(dir, ['run', '--wait']);
      await waiting.waitFor(/target 'dev' is locked by .*\(kiln build, since .*\); waiting until it is released/);
      first.child.kill('SIGCONT');
      expect((await first.done).code).toBe(0);
      const after = await waiting.done;
      expect(after.code, after.stderr).toBe(0);
      expect(after.stdout).toMatch(/OK\s+table model analytics\.total/);
    } finally {
      first.child.kill('SIGCONT');
    }
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT s FROM analytics.total')).toEqual([{ s: 6 }]);
  });

  it('--wait SECONDS gives up with exit 2 once the time is over', async () => {
    const dir = project();
    const first = startKiln(dir, ['seed']);
    await holding(dir, first);
    first.child.kill('SIGSTOP');
    try {
      const r = await runKiln(dir, ['seed', '--wait', '1']);
      expect(r.code).toBe(2);
      expect(r.stdout).toMatch(/waiting up to 1 s/);
      expect(r.stderr).toMatch(/is locked by .*; gave up after waiting \d+ s/);
    } finally {
      first.child.kill('SIGCONT');
      await first.done;
    }
  });

  it('a lock whose process is gone is taken over (old bare-pid files too); kiln unlock removes one and says whose it was', async () => {
    const dir = project();
    const lock = join(dir, '.kiln/dev/kiln.lock');
    expect((await runKiln(dir, ['seed'])).code).toBe(0);
    const dead = deadPid();
    writeFileSync(lock, JSON.stringify({ host: hostname(), pid: dead, command: 'kiln build', started_at: '2026-01-02T03:04:05Z', run_id: 'x', machine: '' }));
    const run = await runKiln(dir, ['run']);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);

    writeFileSync(lock, String(dead));
    expect((await runKiln(dir, ['run'])).code).toBe(0);

    writeFileSync(lock, JSON.stringify({ host: 'elsewhere', pid: dead, command: 'kiln build', started_at: new Date().toISOString(), run_id: 'x', machine: '' }));
    const un = await runKiln(dir, ['unlock', '--target', 'dev']);
    expect(un.code, un.stderr).toBe(0);
    expect(un.stdout).toMatch(new RegExp(`released the lock on target 'dev' held by elsewhere pid ${dead} \\(kiln build, since \\d\\d:\\d\\d:\\d\\d\\)`));
    expect(existsSync(lock)).toBe(false);
    expect((await runKiln(dir, ['unlock'])).stdout).toMatch(/target 'dev' is not locked/);
  });
});
