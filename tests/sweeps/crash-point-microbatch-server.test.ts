import { createClient } from '@clickhouse/client';
import { afterAll, beforeAll, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { serverRestore, serverView } from '../helpers/crash-sweep-server.js';
import { removeProjects, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { kilnOk, sweepReported, T1 } from '../helpers/materialization-sweeps.js';
import { microbatchSweepFiles, rowsByDay, SWEEP_EVENTS_V2, tornDay, type ReadRows } from '../helpers/microbatch-sweep.js';
import { serverEnv, serverProjectYml } from '../helpers/server-target.js';

/**
 * The microbatch sweep of crash-point-microbatch.test.ts against clickhouse-server 18.16: a run
 * replacing three day batches (REPLACE PARTITION there too), killed after each statement; right
 * after the kill every day is wholly its old or new batch, and the rerun leaves the clean run's
 * rows. Between crash points the database is put back as `prepare` left it (serverRestore).
 */
const SWEEP_TIMEOUT_MS = 900_000;

describeWithClickHouse('crash-point sweep of a microbatch model on a ClickHouse server', (getServer) => {
  let server: ClickHouseServer;
  beforeAll(() => {
    server = getServer();
  });
  afterAll(removeProjects);

  it('a later run replacing three batches: each is the old or the new one after a kill, and the rerun counts boundary rows once', async () => {
    const db = `sweep_mb_${process.pid}`;
    const env = serverEnv(server);
    const read: ReadRows = async (sql) => {
      const client = createClient({ url: server.url, username: server.username, password: server.password });
      try {
        return await (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
      } finally {
        await client.close();
      }
    };
    let before = new Map<string, string>();
    await sweepReported(
      `kiln run (microbatch, 3 batches replaced, clickhouse-server ${server.version})`,
      {
        prepare: async () => {
          const dir = writeProject(microbatchSweepFiles(serverProjectYml(db, 'mbs')));
          await kilnOk(dir, ['build'], env);
          before = await rowsByDay(read, db, 'by_batch');
          writeFiles(dir, { 'seeds/events.csv': SWEEP_EVENTS_V2 });
          await kilnOk(dir, ['seed'], env);
          return dir;
        },
        args: ['run', '--select', 'by_batch', ...T1],
        env,
        restore: serverRestore(server, [db]),
        view: serverView(server, [db]),
        afterCrash: () => tornDay(read, db, before),
      },
      15,
    );
  }, SWEEP_TIMEOUT_MS);
});
