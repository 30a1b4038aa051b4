import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { ALL_SWEEPS, crashSweep, dropServerDatabases, serverView, withoutRefreshMarks, type ServerAccess, reportSweep, CSV_SWEEP } from '../helpers/crash-sweep.js';
import { removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

/**
 * Crash-point sweeps of `kiln stage` against a real ClickHouse 18.16 server (issue 12). The
 * server's warehouse is reset before every run: its raw database dropped and the scenario's
 * starting state made again (files written with fixed times, so fingerprints repeat).
 */

const TARGET = `dev: { engine: clickhouse, url: "{{ env_var('CH_URL') }}", username: "{{ env_var('CH_USER') }}", password: "{{ env_var('CH_PASSWORD') }}", database: analytics, raw_database: "{{ env_var('RAW_DB') }}" }`;
const { sources: SOURCES, xOld: X_OLD, xNew: X_NEW } = CSV_SWEEP;
const FIXED_TIME = new Date('2025-01-01T00:00:00Z');


function writeData(dir: string, name: string, text: string): void {
  writeFileSync(join(dir, 'data', name), text);
  utimesSync(join(dir, 'data', name), FIXED_TIME, FIXED_TIME);
}

describeWithClickHouse('crash-point sweeps of kiln stage on a ClickHouse server', (getServer) => {
  const access = (): ServerAccess => getServer();
  const envOf = (db: string) => ({ CH_URL: getServer().url, CH_USER: getServer().username, CH_PASSWORD: getServer().password, RAW_DB: db });

  /** A scenario whose start is: data/x.csv as `first`, staged once when `stagedFirst`, then x.csv as `then`. */
  function scenario(db: string, opts: { stagedFirst: boolean; then?: string }) {
    const env = envOf(db);
    const dir = writeProject({ 'project.yml': `name: sweep\ntarget: dev\ntargets:\n  ${TARGET}\n`, 'sources.yml': SOURCES, 'data/x.csv': X_OLD });
    const restore = async (): Promise<void> => {
      await dropServerDatabases(access(), [db]);
      writeData(dir, 'x.csv', X_OLD);
      if (opts.stagedFirst) {
        const r = await runKiln(dir, ['stage', '--threads', '1'], { env });
        if (r.code !== 0) throw new Error(`staging the start failed:\n${r.stdout}\n${r.stderr}`);
      }
      if (opts.then) writeData(dir, 'x.csv', opts.then);
    };
    return { env, prepare: async () => dir, restore, view: serverView(access(), [db]) };
  }

  // A sweep runs kiln two or three times per crash point, each run a few seconds on a loaded machine.
  const SWEEP_TIMEOUT = 1_800_000;

  it('csv, first load', { timeout: SWEEP_TIMEOUT }, async () => {
    const sweep = await crashSweep({ ...scenario('sw_first', { stagedFirst: false }), args: ['stage', '--threads', '1'] });
    reportSweep('server stage csv (first load)', sweep, 10);
  });

  it.skipIf(!ALL_SWEEPS)('csv, reload of a changed file (KILN_SWEEPS=all)', { timeout: SWEEP_TIMEOUT }, async () => {
    const sweep = await crashSweep({ ...scenario('sw_reload', { stagedFirst: true, then: X_NEW }), args: ['stage', '--threads', '1'] });
    reportSweep('server stage csv (reload of a changed file)', sweep, 8);
  });

  it.skipIf(!ALL_SWEEPS)('--full-refresh, rerun the same (KILN_SWEEPS=all)', { timeout: SWEEP_TIMEOUT }, async () => {
    const sweep = await crashSweep({ ...scenario('sw_refresh', { stagedFirst: true, then: X_NEW }), args: ['stage', '--full-refresh', '--threads', '1'] });
    reportSweep('server stage --full-refresh', sweep, 10);
  });

  it.skipIf(!ALL_SWEEPS)('--full-refresh killed, then a plain kiln stage (KILN_SWEEPS=all)', { timeout: SWEEP_TIMEOUT }, async () => {
    const start = scenario('sw_refresh_plain', { stagedFirst: true });
    const sweep = await crashSweep({
      ...start,
      args: ['stage', '--full-refresh', '--threads', '1'],
      rerun: ['stage', '--threads', '1'],
      view: withoutRefreshMarks(start.view),
    });
    reportSweep('server stage --full-refresh, rerun plain stage', sweep, 10);
  });
});
