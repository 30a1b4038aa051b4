import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { serverProject, serverSession } from '../helpers/server-target.js';
import { removeProjects } from '../helpers/kiln-cli.js';
import { SNAPSHOT_FILES, snapshotScenario } from '../helpers/snapshot-project.js';

/**
 * The snapshot scenario against Debian's clickhouse-server 18.16: no CTEs, no EXCHANGE TABLES
 * (the swap is the rename pair), JOIN … ON with defaults for unmatched rows.
 */
afterAll(removeProjects);

describeWithClickHouse('snapshots on clickhouse-server', (getServer) => {
  const { kiln, rows, server } = serverSession(getServer);

  it('record changes, hard deletes and returning rows in each strategy, as on the embedded engine', async () => {
    expect(server().version).toMatch(/^18\.16\./);
    const dir = serverProject('snaps', SNAPSHOT_FILES, 'snap');
    const read = (sql: string) => rows<Record<string, unknown>>(sql);
    await snapshotScenario(dir, 'snaps', (args) => kiln(dir, args), read);
    const leftovers = await read(`SELECT name FROM system.tables WHERE database = 'snaps' AND name LIKE '__kiln_%'`);
    expect(leftovers).toEqual([]);
  });
});
