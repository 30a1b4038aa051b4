import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { SNAPSHOT_FILES, snapshotScenario } from '../helpers/snapshot-project.js';

/**
 * The snapshot scenario against Debian's clickhouse-server 18.16: no CTEs, no EXCHANGE TABLES
 * (the swap is the rename pair), JOIN … ON with defaults for unmatched rows.
 */
afterAll(removeProjects);

describeWithClickHouse('snapshots on clickhouse-server', (getServer) => {
  let server: ClickHouseServer;
  let client: ClickHouseClient;
  let env: Record<string, string>;
  beforeAll(() => {
    server = getServer();
    client = createClient({ url: server.url, username: server.username, password: server.password });
    env = { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password };
  });
  afterAll(async () => {
    await client?.close();
  });

  it('record changes, hard deletes and returning rows in each strategy, as on the embedded engine', async () => {
    expect(server.version).toMatch(/^18\.16\./);
    const dir = writeProject({
      'project.yml': `name: snap
target: ch
targets:
  ch:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: snaps
    raw_database: snaps_raw
`,
      ...SNAPSHOT_FILES,
    });
    const read = async (sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    await snapshotScenario(dir, 'snaps', (args) => runKiln(dir, args, { env }), read);
    const leftovers = await read(`SELECT name FROM system.tables WHERE database = 'snaps' AND name LIKE '__kiln_%'`);
    expect(leftovers).toEqual([]);
  });
});
