import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { hasExited, killChild, killOnTestExit, stopChild } from './child-process.js';
import { configXml, logTail, queryText, serverBinary, stopTimeoutMs, usersXml, waitForPing } from './clickhouse-server.js';
import { freePorts } from './free-port.js';
import { describeIfInstalled, missingPrograms, SERVER_TEST_TIMEOUT_MS } from './installed-programs.js';

/** The cluster's name in every node's `remote_servers`. */
export const CLUSTER_NAME = 'kiln_cluster';
export const SHARDS = 2;
export const REPLICAS_PER_SHARD = 2;

/** One clickhouse-server of the cluster. */
export interface ClusterNode {
  /** 0-based position: shard = floor(index / REPLICAS_PER_SHARD) + 1. */
  readonly index: number;
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  /** The node's `{shard}` and `{replica}` macros. */
  readonly shard: string;
  readonly replica: string;
}

/**
 * ZooKeeper and SHARDS × REPLICAS_PER_SHARD clickhouse-servers (Debian packages) on 127.0.0.1,
 * each knowing the cluster `CLUSTER_NAME` (internal_replication on), the ZooKeeper and its macros.
 * Every node has the same users: `username`/`password`, and `default` without a password (what
 * the nodes use to talk to each other).
 */
export interface ClickHouseCluster {
  readonly name: string;
  readonly nodes: readonly ClusterNode[];
  readonly username: string;
  readonly password: string;
  readonly version: string;
  readonly zookeeperPort: number;
  /** The temp folder: `node<i+1>/log/` holds each node's server logs (removed by stop()). */
  readonly dir: string;
  /** A statement on node `i` as `username`; the trimmed TSV body. */
  query(i: number, sql: string): Promise<string>;
  /** Stops node `i` (SIGKILL with `crash`, as a power cut would, else SIGTERM); its data stays. */
  stopNode(i: number, opts?: { crash?: boolean }): Promise<void>;
  /** Starts node `i` again on its data folder and ports; resolves once it answers /ping. */
  startNode(i: number): Promise<void>;
  stopZookeeper(opts?: { crash?: boolean }): Promise<void>;
  /** Starts ZooKeeper again on its data folder and port; resolves once it serves sessions. */
  startZookeeper(): Promise<void>;
  /** Stops every process and removes the temp folder. */
  stop(): Promise<void>;
}

const javaBinary = '/usr/bin/java';
/**
 * Debian's ZooKeeper with the jars it needs to run standalone. log4j-over-slf4j must stay off the
 * class path (it and the log4j bridge loop into each other); slf4j-nop keeps its log quiet.
 */
const zookeeperJars = [
  'zookeeper', 'zookeeper-jute', 'slf4j-api', 'slf4j-nop', 'netty-handler', 'netty-common', 'netty-buffer',
  'netty-transport', 'netty-codec', 'netty-resolver', 'netty-transport-native-epoll', 'netty-transport-native-unix-common',
  'commons-io', 'commons-cli', 'metrics-core', 'snappy-java', 'jackson-databind', 'jackson-core', 'jackson-annotations',
].map((name) => `/usr/share/java/${name}.jar`);

export const clusterProgramsMissing: string | null = serverBinary
  ? missingPrograms([javaBinary, ...zookeeperJars], ['zookeeper'])
  : 'clickhouse-server not installed (apt-get install clickhouse-server zookeeper)';

// Four servers and a JVM starting at once on a loaded 2-core machine: far slower than one alone.
const startTimeoutMs = 180_000;

/** Starts ZooKeeper and the four nodes in a fresh temp folder, or returns null when a program is missing. */
export async function startClickHouseCluster(): Promise<ClickHouseCluster | null> {
  if (clusterProgramsMissing !== null || !serverBinary) return null;
  // A port found free can be taken before its server binds it; new ports usually fix that.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(serverBinary);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/Address already in use|BindException/i.test(error.message)) throw error;
    }
  }
}

interface NodeProcess extends ClusterNode {
  readonly dir: string;
  child: ChildProcess;
}

async function startOnce(binary: string): Promise<ClickHouseCluster> {
  const root = mkdtempSync(join(tmpdir(), 'kiln-cluster-'));
  const count = SHARDS * REPLICAS_PER_SHARD;
  const ports = await freePorts(1 + 3 * count);
  const zookeeperPort = ports[0];
  const username = 'kiln';
  const password = randomBytes(12).toString('hex');
  const layout = Array.from({ length: count }, (_, index) => ({
    index,
    httpPort: ports[1 + 3 * index],
    tcpPort: ports[2 + 3 * index],
    interserverPort: ports[3 + 3 * index],
    shard: String(Math.floor(index / REPLICAS_PER_SHARD) + 1),
    replica: `s${Math.floor(index / REPLICAS_PER_SHARD) + 1}r${(index % REPLICAS_PER_SHARD) + 1}`,
  }));
  const remoteServers = clusterXml(layout.map((node) => node.tcpPort));

  const zkDir = join(root, 'zookeeper');
  mkdirSync(join(zkDir, 'data'), { recursive: true });
  writeFileSync(join(zkDir, 'zoo.cfg'), zooCfg(zkDir, zookeeperPort));
  const launchZookeeper = (): ChildProcess => {
    const output = openSync(join(zkDir, 'stdout.log'), 'a');
    const spawned = spawn(
      javaBinary,
      ['-Xmx256m', '-Dzookeeper.admin.enableServer=false', '-cp', zookeeperJars.join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', join(zkDir, 'zoo.cfg')],
      { cwd: zkDir, stdio: ['ignore', output, output] },
    );
    closeSync(output);
    return spawned;
  };

  let zookeeper = launchZookeeper();
  const nodes: NodeProcess[] = [];
  const guard = killOnTestExit(() => [zookeeper, ...nodes.map((node) => node.child)], root);
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => stopChild(node.child, stopTimeoutMs)));
    await stopChild(zookeeper, stopTimeoutMs);
    guard.release();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    // 18.16 does not recover from a ZooKeeper that refused its first session: its next ON CLUSTER
    // statement dereferences a null session and the server dies (seen here). So ZooKeeper first.
    await waitForZookeeper(zookeeperPort, zookeeper);
  } catch (error) {
    const zkTail = logTail(zkDir);
    await stop();
    throw new Error(`ZooKeeper did not start: ${(error as Error).message}\n${zkTail}`);
  }

  nodes.push(...layout.map((spec) => {
    const dir = join(root, `node${spec.index + 1}`);
    mkdirSync(dir);
    const extra = nodeXml(spec, zookeeperPort, remoteServers);
    writeFileSync(join(dir, 'config.xml'), configXml(dir, spec.httpPort, spec.tcpPort, extra));
    writeFileSync(join(dir, 'users.xml'), usersXml(username, password));
    return { index: spec.index, url: `http://127.0.0.1:${spec.httpPort}`, httpPort: spec.httpPort, tcpPort: spec.tcpPort, shard: spec.shard, replica: spec.replica, dir, child: launchNode(binary, dir) };
  }));
  const node = (i: number): NodeProcess => {
    const found = nodes[i];
    if (!found) throw new Error(`no node ${i}: the cluster has nodes 0..${nodes.length - 1}`);
    return found;
  };
  // An ON CLUSTER statement waits for every node (up to distributed_ddl_task_timeout, 180 s).
  const query = (i: number, sql: string): Promise<string> => queryText(node(i).url, username, password, sql, 240_000);

  try {
    await Promise.all(nodes.map((n) => waitForPing(n.url, n.child)));
    await Promise.all(nodes.map((n) => waitForCluster(n, () => query(n.index, `SELECT count() FROM system.clusters WHERE cluster = '${CLUSTER_NAME}'`))));
    await Promise.all(nodes.map((n) => waitForCluster(n, () => query(n.index, "SELECT count() FROM system.zookeeper WHERE path = '/'"))));
    const version = await query(0, 'SELECT version()');
    return {
      name: CLUSTER_NAME,
      nodes: nodes.map(({ index, url, httpPort, tcpPort, shard, replica }) => ({ index, url, httpPort, tcpPort, shard, replica })),
      username,
      password,
      version,
      zookeeperPort,
      dir: root,
      query,
      stopNode: async (i, opts = {}) => {
        if (opts.crash) await killChild(node(i).child);
        else await stopChild(node(i).child, stopTimeoutMs);
      },
      startNode: async (i) => {
        const n = node(i);
        if (!hasExited(n.child)) throw new Error(`node ${i} is still running`);
        n.child = launchNode(binary, n.dir);
        await waitForPing(n.url, n.child);
      },
      stopZookeeper: async (opts = {}) => {
        if (opts.crash) await killChild(zookeeper);
        else await stopChild(zookeeper, stopTimeoutMs);
      },
      startZookeeper: async () => {
        if (!hasExited(zookeeper)) throw new Error('ZooKeeper is still running');
        zookeeper = launchZookeeper();
        await waitForZookeeper(zookeeperPort, zookeeper);
      },
      stop,
    };
  } catch (error) {
    const tails = nodes.map((n) => `--- node ${n.index} ---\n${logTail(n.dir)}`).join('\n');
    const zkTail = logTail(zkDir);
    await stop();
    throw new Error(`the ClickHouse cluster did not start: ${(error as Error).message}\n--- zookeeper ---\n${zkTail}\n${tails}`);
  }
}

function launchNode(binary: string, dir: string): ChildProcess {
  const output = openSync(join(dir, 'stdout.log'), 'a');
  const spawned = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', output, output] });
  closeSync(output);
  return spawned;
}

function zooCfg(dir: string, port: number): string {
  // tickTime 2 s lets a node's 30 s session timeout stand (ZooKeeper caps it at 20 ticks).
  return [
    'tickTime=2000',
    `dataDir=${dir}/data`,
    `clientPort=${port}`,
    'clientPortAddress=127.0.0.1',
    'maxClientCnxns=0',
    'admin.enableServer=false',
    '4lw.commands.whitelist=srvr',
    '',
  ].join('\n');
}

/** `remote_servers` with one cluster: shards of consecutive nodes, replication done by the Replicated tables. */
function clusterXml(tcpPorts: readonly number[]): string {
  const shards = Array.from({ length: SHARDS }, (_, s) => {
    const replicas = tcpPorts
      .slice(s * REPLICAS_PER_SHARD, (s + 1) * REPLICAS_PER_SHARD)
      .map((port) => `<replica><host>127.0.0.1</host><port>${port}</port></replica>`)
      .join('');
    return `<shard><internal_replication>true</internal_replication>${replicas}</shard>`;
  });
  return `<remote_servers><${CLUSTER_NAME}>${shards.join('')}</${CLUSTER_NAME}></remote_servers>`;
}

function nodeXml(spec: { interserverPort: number; shard: string; replica: string }, zookeeperPort: number, remoteServers: string): string {
  // Replicas fetch parts from each other over the interserver port, at the host they register in ZooKeeper.
  return `
  <interserver_http_port>${spec.interserverPort}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  ${remoteServers}
  <zookeeper><node><host>127.0.0.1</host><port>${zookeeperPort}</port></node><session_timeout_ms>30000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <macros><cluster>${CLUSTER_NAME}</cluster><shard>${spec.shard}</shard><replica>${spec.replica}</replica></macros>`;
}

/**
 * Resolves once ZooKeeper serves sessions: `srvr` reports its mode. (`ruok` says imok as soon as
 * the port is open, while sessions are still refused.)
 */
async function waitForZookeeper(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`ZooKeeper exited (code ${child.exitCode ?? child.signalCode}) before answering`);
    try {
      const answer = await fourLetterWord(port, 'srvr');
      if (/^Mode: /m.test(answer)) return;
      lastError = `answered "${answer}"`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`ZooKeeper on port ${port} did not serve within ${startTimeoutMs / 1000}s (last: ${lastError})`);
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(2_000, () => socket.destroy(new Error('timed out')));
    socket.on('connect', () => socket.end(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8').trim()));
    socket.on('error', reject);
  });
}

/** Waits until `check()` gives a non-zero count: the node sees all of the cluster / reaches ZooKeeper. */
async function waitForCluster(node: NodeProcess, check: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (hasExited(node.child)) throw new Error(`node ${node.index} exited (code ${node.child.exitCode ?? node.child.signalCode})`);
    try {
      last = await check();
      if (Number(last) > 0) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`node ${node.index} not ready within ${startTimeoutMs / 1000}s (last: ${last})`);
}

/**
 * A describe block that starts one cluster for its tests (once per file: starting it costs tens
 * of seconds on a loaded machine) and stops it afterwards; where zookeeper or clickhouse-server is
 * not installed it is skipped, or fails under KILN_REQUIRE_SERVERS=1.
 */
export function describeWithCluster(name: string, fn: (getCluster: () => ClickHouseCluster) => void): void {
  describeIfInstalled(name, clusterProgramsMissing, () => {
    let cluster: ClickHouseCluster | null = null;
    beforeAll(async () => {
      cluster = await startClickHouseCluster();
    }, startTimeoutMs * 2);
    afterAll(async () => {
      await cluster?.stop();
    }, stopTimeoutMs * 2 + 30_000);
    fn(() => {
      if (!cluster) throw new Error('ClickHouse cluster not started');
      return cluster;
    });
  });
}

export { SERVER_TEST_TIMEOUT_MS };
