import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { hasExited, killOnTestExit, stopChild } from './child-process.js';
import { freePort } from './free-port.js';
import { describeIfInstalled, SERVER_TEST_TIMEOUT_MS, missingPrograms } from './installed-programs.js';

const run = promisify(execFile);

/** A throwaway MariaDB server (the MySQL stand-in) listening on 127.0.0.1 and a socket. */
export interface MariaDbServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** A password user with every privilege on `database`, for TCP connections from 127.0.0.1. */
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly socket: string;
  /** Runs SQL as root through the socket (`mariadb --batch`) and returns its tab-separated output. */
  query(sql: string, database?: string): Promise<string>;
  /** mariadb-dump of `database` over TCP; extendedInsert false adds --skip-extended-insert (one row per INSERT). */
  dump(file: string, opts?: { extendedInsert?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

const binaries = {
  installDb: '/usr/bin/mariadb-install-db',
  server: '/usr/sbin/mariadbd',
  client: '/usr/bin/mariadb',
  dump: '/usr/bin/mariadb-dump',
};

export const mariadbMissing: string | null = missingPrograms(Object.values(binaries), ['mariadb-server', 'mariadb-client']);

// Idle, a server answers within 2 s; on a loaded 2-core machine it can take many times that.
const startTimeoutMs = 90_000;
const stopTimeoutMs = 10_000;

/** Initializes a datadir in a temp folder and starts mariadbd on it, or returns null when not installed. */
export async function startMariaDb(): Promise<MariaDbServer | null> {
  if (mariadbMissing) return null;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/Address already in use|Can't start server: Bind/i.test(error.message)) throw error;
    }
  }
}

async function startOnce(): Promise<MariaDbServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-mariadb-'));
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  const errorLog = join(dir, 'error.log');
  // mariadbd refuses to run as root unless told to; as another user --user is ignored anyway.
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
  // Its own tmpdir: a mariadbd starting up deletes the `#sql*` temp tables it finds there, which
  // broke another worker's mariadb-install-db running at the same time in the shared /tmp.
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);

  try {
    await run(binaries.installDb, [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--tmpdir=${tmp}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...asUser,
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${(error as Error).message}`);
  }

  const port = await freePort();
  const output = openSync(join(dir, 'stdout.log'), 'a');
  const child = spawn(
    binaries.server,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--tmpdir=${tmp}`,
      `--socket=${socket}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--skip-networking=0',
      '--skip-name-resolve',
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${errorLog}`,
      '--innodb-buffer-pool-size=32M',
      ...asUser,
    ],
    { cwd: dir, stdio: ['ignore', output, output] },
  );
  closeSync(output);
  const guard = killOnTestExit(() => child, dir);

  const stop = async (): Promise<void> => {
    await stopChild(child, stopTimeoutMs);
    guard.release();
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (sql: string, database?: string): Promise<string> => {
    const args = ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '-e', sql];
    const { stdout } = await run(binaries.client, database ? [...args, database] : args);
    return stdout;
  };

  const user = 'kiln';
  const password = randomBytes(12).toString('hex');
  const database = 'app';
  try {
    await waitForSocket(query, child);
    await query(
      `CREATE DATABASE \`${database}\`;` +
        `CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY '${password}';` +
        `GRANT ALL PRIVILEGES ON \`${database}\`.* TO '${user}'@'127.0.0.1';`,
    );
  } catch (error) {
    const tail = existsSync(errorLog) ? readFileSync(errorLog, 'utf8').split('\n').slice(-30).join('\n') : '';
    await stop();
    throw new Error(`mariadbd did not start: ${(error as Error).message}\n--- error log tail ---\n${tail}`);
  }

  const dump = async (file: string, opts: { extendedInsert?: boolean } = {}): Promise<void> => {
    await run(binaries.dump, [
      '--no-defaults',
      '--host=127.0.0.1',
      `--port=${port}`,
      `--user=${user}`,
      `--password=${password}`,
      ...(opts.extendedInsert === false ? ['--skip-extended-insert'] : []),
      `--result-file=${file}`,
      database,
    ]);
  };

  return { host: '127.0.0.1', port, user, password, database, socket, query, dump, stop };
}

async function waitForSocket(query: (sql: string) => Promise<string>, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  let lastError = 'no answer';
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(`server exited (code ${child.exitCode ?? child.signalCode}) before accepting connections`);
    }
    try {
      await query('SELECT 1');
      return;
    } catch (error) {
      lastError = (error as Error).message.trim();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no connection within ${startTimeoutMs / 1000}s (last: ${lastError})`);
}

/**
 * A describe block that starts one MariaDB server for its tests and stops it afterwards; where
 * MariaDB is not installed it is skipped, or fails under KILN_REQUIRE_SERVERS=1.
 */
export function describeWithMariaDb(name: string, fn: (getServer: () => MariaDbServer) => void): void {
  describeIfInstalled(name, mariadbMissing, () => {
    let server: MariaDbServer | null = null;
    beforeAll(async () => {
      server = await startMariaDb();
    }, SERVER_TEST_TIMEOUT_MS);
    afterAll(async () => {
      await server?.stop();
    }, stopTimeoutMs + 30_000);
    fn(() => {
      if (!server) throw new Error('MariaDB server not started');
      return server;
    });
  });
}
