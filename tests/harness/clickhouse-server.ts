import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { hasExited, killChild, killOnTestExit, stopChild } from './child-process.js';
import { freePorts } from './free-port.js';
import { describeIfInstalled, SERVER_TEST_TIMEOUT_MS, firstExisting } from './installed-programs.js';

/** A throwaway ClickHouse server started from the Debian package, listening on 127.0.0.1 only. */
export interface ClickHouseServer {
  readonly url: string;
  readonly httpPort: number;
  readonly tcpPort: number;
  readonly username: string;
  readonly password: string;
  readonly version: string;
  stop(): Promise<void>;
  /**
   * Stops the server (SIGKILL with `crash`, as a power cut would, else SIGTERM) and starts it
   * again on the same data folder and ports; resolves once it answers /ping.
   */
  restart(opts?: { crash?: boolean }): Promise<void>;
}

export const serverBinary = firstExisting(['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server']);

export const clickhouseServerMissing: string | null = serverBinary ? null : 'clickhouse-server not installed (apt-get install clickhouse-server)';

// Idle, a server answers within 2 s; on a loaded 2-core machine it can take many times that.
const startTimeoutMs = 90_000;
export const stopTimeoutMs = 10_000;

/** Starts a server in a fresh temp folder, or returns null when the binary is missing. */
export async function startClickHouseServer(): Promise<ClickHouseServer | null> {
  if (!serverBinary) return null;
  // A port found free can be taken before the server binds it; a new pair usually fixes that.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(serverBinary);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/Address already in use/i.test(error.message)) throw error;
    }
  }
}

async function startOnce(binary: string): Promise<ClickHouseServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-clickhouse-'));
  const [httpPort, tcpPort] = await freePorts(2);
  const username = 'kiln';
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort));
  writeFileSync(join(dir, 'users.xml'), usersXml(username, password));

  const launch = (): ChildProcess => {
    const output = openSync(join(dir, 'stdout.log'), 'a');
    // 18.16 runs fine as root when every path it writes is in a folder root owns.
    const spawned = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: ['ignore', output, output] });
    closeSync(output);
    return spawned;
  };
  let child = launch();
  const guard = killOnTestExit(() => child, dir);

  const stop = async (): Promise<void> => {
    await stopChild(child, stopTimeoutMs);
    guard.release();
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await waitForPing(url, child);
    const version = await queryText(url, username, password, 'SELECT version()');
    const restart = async (opts: { crash?: boolean } = {}): Promise<void> => {
      if (opts.crash) {
        await killChild(child);
      } else {
        await stopChild(child, stopTimeoutMs);
      }
      child = launch();
      await waitForPing(url, child);
    };
    return { url, httpPort, tcpPort, username, password, version, stop, restart };
  } catch (error) {
    const tail = logTail(dir);
    await stop();
    throw new Error(`clickhouse-server did not start: ${(error as Error).message}\n--- log tail ---\n${tail}`);
  }
}

/**
 * The server's config.xml. Only http_port and tcp_port are set, so no interserver, MySQL, HTTPS or
 * Prometheus listeners start; `extra` (XML elements) adds what a cluster node needs.
 */
export function configXml(dir: string, httpPort: number, tcpPort: number, extra = ''): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/server.err.log</errorlog>
    <size>100M</size>
    <count>1</count>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_table_size_to_drop>0</max_table_size_to_drop>
  <max_partition_size_to_drop>0</max_partition_size_to_drop>
  <mlock_executable>false</mlock_executable>${extra}
</yandex>
`;
}

export function usersXml(username: string, password: string): string {
  const user = (name: string, pass: string): string => `
    <${name}>
      <password>${pass}</password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>${user('default', '')}${user(username, password)}
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

/** Resolves once the server at `url` answers /ping; rejects when `child` exits first or it takes too long. */
export async function waitForPing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`server exited (code ${child.exitCode ?? child.signalCode}) before answering /ping`);
    }
    try {
      const { status, body } = await httpRequest(`${url}/ping`, 'GET');
      if (status === 200 && body.trim() === 'Ok.') return;
      lastError = `HTTP ${status}: ${body.trim()}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no "Ok." from ${url}/ping within ${startTimeoutMs / 1000}s (last: ${lastError})`);
}

/** One statement over HTTP as `username` (silent for `timeoutMs` at most); the trimmed body, or an error with the server's message. */
export async function queryText(url: string, username: string, password: string, sql: string, timeoutMs = 1_000): Promise<string> {
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const { status, body } = await httpRequest(url, 'POST', sql, { Authorization: auth }, timeoutMs);
  if (status !== 200) throw new Error(`${sql} failed: HTTP ${status}: ${body.trim()}`);
  return body.trim();
}

/**
 * One request on its own connection. 18.16 waits for open keep-alive connections on SIGTERM
 * (about 8 s instead of 2 s), so the harness never leaves one open.
 */
function httpRequest(url: string, method: 'GET' | 'POST', body = '', headers: Record<string, string> = {}, timeoutMs = 1_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The last lines of the server's error log and stdout in `dir`, for a start failure's message. */
export function logTail(dir: string): string {
  return ['log/server.err.log', 'stdout.log']
    .map((name) => join(dir, name))
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path, 'utf8').split('\n').slice(-30).join('\n'))
    .join('\n');
}

/**
 * A describe block that starts one server for its tests and stops it afterwards; where
 * clickhouse-server is not installed it is skipped, or fails under KILN_REQUIRE_SERVERS=1.
 */
export function describeWithClickHouse(name: string, fn: (getServer: () => ClickHouseServer) => void): void {
  describeIfInstalled(name, clickhouseServerMissing, () => {
    let server: ClickHouseServer | null = null;
    beforeAll(async () => {
      server = await startClickHouseServer();
    }, SERVER_TEST_TIMEOUT_MS);
    afterAll(async () => {
      await server?.stop();
    }, stopTimeoutMs + 30_000);
    fn(() => {
      if (!server) throw new Error('ClickHouse server not started');
      return server;
    });
  });
}
