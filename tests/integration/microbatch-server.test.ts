import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { removeProjects } from '../helpers/kiln-cli.js';
import { BOUNDARY_FILES, MICROBATCH_FILES, microbatchBoundaryScenario, microbatchScenario } from '../helpers/microbatch-project.js';
import { serverProject, serverSession } from '../helpers/server-target.js';

/** The microbatch scenario against clickhouse-server 18.16: REPLACE PARTITION and DROP PARTITION there too. */
afterAll(removeProjects);

describeWithClickHouse('microbatch on clickhouse-server', (getServer) => {
  const session = serverSession(getServer);
  const read = (sql: string) => session.rows<Record<string, unknown>>(sql);

  it('builds batches, filters upstream to each batch, backfills, and retries only failed batches', async () => {
    expect(session.server().version).toMatch(/^18\.16\./);
    const dir = serverProject('mb', MICROBATCH_FILES, 'mb');
    await microbatchScenario(dir, 'mb', (args) => session.kiln(dir, args), read);
    expect(await read(`SELECT name FROM system.tables WHERE database = 'mb' AND name LIKE '__kiln_%'`)).toEqual([]);
  });

  it('reruns of windows overlapping built batches replace them whole: rows on a boundary counted once', async () => {
    const dir = serverProject('mbb', BOUNDARY_FILES, 'mb');
    await microbatchBoundaryScenario(dir, 'mbb', (args) => session.kiln(dir, args), read);
  });
});
