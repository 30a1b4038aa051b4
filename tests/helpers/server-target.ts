import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll } from 'vitest';
import type { ClickHouseServer } from '../harness/clickhouse-server.js';
import { runKiln, writeProject, type KilnResult, type ProjectFiles } from './kiln-cli.js';

/**
 * A project.yml whose target `ch` is the harness's clickhouse-server, its URL and credentials read
 * from the environment (`serverEnv`), so no secret is written into the project.
 */
export function serverProjectYml(database: string, name = 'srv'): string {
  return `name: ${name}
target: ch
targets:
  ch:
    engine: clickhouse
    url: "{{ env_var('KILN_TEST_CH_URL') }}"
    username: "{{ env_var('KILN_TEST_CH_USER') }}"
    password: "{{ env_var('KILN_TEST_CH_PASSWORD') }}"
    database: ${database}
    raw_database: ${database}_raw
`;
}

/** A temp project with `serverProjectYml(database)` and `files`. */
export function serverProject(database: string, files: ProjectFiles, name?: string): string {
  return writeProject({ 'project.yml': serverProjectYml(database, name), ...files });
}

/** What the target's env_var() calls read for the harness server. */
export function serverEnv(server: ClickHouseServer): Record<string, string> {
  return { KILN_TEST_CH_URL: server.url, KILN_TEST_CH_USER: server.username, KILN_TEST_CH_PASSWORD: server.password };
}

export interface ServerSession {
  readonly server: () => ClickHouseServer;
  readonly env: () => Record<string, string>;
  /** `kiln <args>` on `dir` against the server, with `extra` environment variables. */
  kiln(dir: string, args: readonly string[], extra?: Record<string, string>): Promise<KilnResult>;
  /** Rows of a query on the server, read with its own client. */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** A statement on the server, with its own client (setting up what a test starts from). */
  command(sql: string): Promise<void>;
}

/** Inside describeWithClickHouse: a client opened before the tests and closed after them. */
export function serverSession(getServer: () => ClickHouseServer): ServerSession {
  let server: ClickHouseServer;
  let client: ClickHouseClient;
  beforeAll(() => {
    server = getServer();
    client = createClient({ url: server.url, username: server.username, password: server.password });
  });
  afterAll(async () => {
    await client?.close();
  });
  return {
    server: () => server,
    env: () => serverEnv(server),
    kiln: (dir, args, extra = {}) => runKiln(dir, args, { env: { ...serverEnv(server), ...extra } }),
    rows: async <T>(sql: string) => (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>(),
    command: async (sql) => {
      await client.command({ query: sql });
    },
  };
}
