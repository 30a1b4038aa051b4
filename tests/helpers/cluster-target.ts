import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll } from 'vitest';
import type { ClickHouseCluster } from '../harness/clickhouse-cluster.js';
import { runKiln, writeProject, type KilnResult, type ProjectFiles } from './kiln-cli.js';
import { serverProjectYml } from './server-target.js';

/**
 * A project.yml whose target `ch` is one node of the harness cluster with `cluster:` set, its URL
 * and credentials read from the environment (`clusterEnv`), so kiln can be pointed at any node.
 * `extraTargetYaml` adds target keys (indented lines), e.g. `    replicated: false\n`.
 */
export function clusterProjectYml(database: string, cluster: string, name = 'clu', extraTargetYaml = ''): string {
  return `${serverProjectYml(database, name)}    cluster: ${cluster}\n${extraTargetYaml}`;
}

/** A temp project with `clusterProjectYml(database, cluster)` and `files`. */
export function clusterProject(database: string, cluster: string, files: ProjectFiles, name?: string, extraTargetYaml?: string): string {
  return writeProject({ 'project.yml': clusterProjectYml(database, cluster, name, extraTargetYaml), ...files });
}

/** What the target's env_var() calls read to reach node `i` of the cluster. */
export function clusterEnv(cluster: ClickHouseCluster, i: number): Record<string, string> {
  return { KILN_TEST_CH_URL: cluster.nodes[i].url, KILN_TEST_CH_USER: cluster.username, KILN_TEST_CH_PASSWORD: cluster.password };
}

export interface ClusterSession {
  readonly cluster: () => ClickHouseCluster;
  /** `kiln <args>` on `dir` against node `node`, with `extra` environment variables. */
  kiln(dir: string, args: readonly string[], node?: number, extra?: Record<string, string>): Promise<KilnResult>;
  /** Rows of a query on node `node`, read with that node's own client. */
  rows<T = Record<string, unknown>>(node: number, sql: string): Promise<T[]>;
  /** A statement on node `node` (setting up what a test starts from). */
  command(node: number, sql: string): Promise<void>;
}

/** Inside describeWithCluster: one client per node, opened before the tests and closed after them. */
export function clusterSession(getCluster: () => ClickHouseCluster): ClusterSession {
  let cluster: ClickHouseCluster;
  let clients: ClickHouseClient[] = [];
  beforeAll(() => {
    cluster = getCluster();
    // A node restarted by a fault test is reached again by the same URL; keep-alive off so a stopped
    // node's SIGTERM does not wait for an idle connection of this client.
    clients = cluster.nodes.map((node) =>
      createClient({ url: node.url, username: cluster.username, password: cluster.password, keep_alive: { enabled: false } }),
    );
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });
  return {
    cluster: () => cluster,
    kiln: (dir, args, node = 0, extra = {}) => runKiln(dir, args, { env: { ...clusterEnv(cluster, node), ...extra } }),
    rows: async <T>(node: number, sql: string) => (await clients[node].query({ query: sql, format: 'JSONEachRow' })).json<T>(),
    command: async (node, sql) => {
      await clients[node].command({ query: sql });
    },
  };
}
