import { afterAll, beforeAll, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { serverRestore, serverView } from '../helpers/crash-sweep-server.js';
import { incrementalProject, MODEL_OF, STRATEGIES } from '../helpers/incremental-project.js';
import { removeProjects } from '../helpers/kiln-cli.js';
import { incrementalPrepared, sweepReported } from '../helpers/materialization-sweeps.js';

/**
 * Crash-point sweeps of each incremental strategy against the oldest server kiln supports
 * (Debian's 18.16: no EXCHANGE TABLES, deletes are mutations waited for). `prepare` builds the
 * models once and then lets new source rows arrive; the swept command is the incremental run.
 * Between crash points the database is put back as `prepare` left it (serverRestore).
 */
/** Two kiln processes per crash point, each a few seconds on a loaded 2-core machine. */
const SWEEP_TIMEOUT_MS = 900_000;

describeWithClickHouse('crash-point sweeps of incremental models on a ClickHouse server', (getServer) => {
  let server: ClickHouseServer;
  beforeAll(() => {
    server = getServer();
  });
  afterAll(removeProjects);

  const env = (db: string) => ({ KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password, KILN_TEST_DB: db });

  it.each(STRATEGIES)('%s: each rerun after a kill ends with the clean run\'s rows, the increment whole or not at all', async (strategy) => {
    const db = `sweep_${strategy}_${process.pid}`;
    const model = MODEL_OF[strategy];
    await sweepReported(`kiln run (incremental ${strategy}, clickhouse-server ${server.version})`, {
      prepare: () => incrementalPrepared(incrementalProject([strategy]), ['--target', 'srv'], env(db)),
      args: ['run', '--select', model, '--threads', '1', '--target', 'srv'],
      env: env(db),
      restore: serverRestore(server, [db]),
      view: serverView(server, [db]),
      atomic: [`${db}.${model}`],
    }, 5);
  }, SWEEP_TIMEOUT_MS);
});
