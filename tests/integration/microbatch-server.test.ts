import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { BOUNDARY_FILES, MICROBATCH_FILES, microbatchBoundaryScenario, microbatchScenario } from '../helpers/microbatch-project.js';
import { serverProject } from '../helpers/server-target.js';

/** The microbatch scenario against clickhouse-server 18.16: REPLACE PARTITION and DROP PARTITION there too. */
afterAll(removeProjects);

describeWithClickHouse('microbatch on clickhouse-server', (getServer) => {
  let server: ClickHouseServer;
  let client: ClickHouseClient;
  beforeAll(() => {
    server = getServer();
    client = createClient({ url: server.url, username: server.username, password: server.password });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('builds batches, filters upstream to each batch, backfills, and retries only failed batches', async () => {
    expect(server.version).toMatch(/^18\.16\./);
    const env = { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password };
    const dir = writeProject({
      'project.yml': `name: mb
target: ch
targets:
  ch:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: mb
    raw_database: mb_raw
`,
      ...MICROBATCH_FILES,
    });
    const read = async (sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    await microbatchScenario(dir, 'mb', (args) => runKiln(dir, args, { env }), read);
    expect(await read(`SELECT name FROM system.tables WHERE database = 'mb' AND name LIKE '__kiln_%'`)).toEqual([]);
  });

  it('reruns of windows overlapping built batches replace them whole: rows on a boundary counted once', async () => {
    const env = { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password };
    const dir = serverProject('mbb', BOUNDARY_FILES, 'mb');
    const read = async (sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<Record<string, unknown>>();
    await microbatchBoundaryScenario(dir, 'mbb', (args) => runKiln(dir, args, { env }), read);
  });
});
