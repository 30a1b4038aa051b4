#!/usr/bin/env node
// Regenerates the reference project's committed sample data:
//   data/mysql/app.sql                          a real mariadb-dump of the five app tables
//   tests/fixtures/reference/app-oneline.sql    the same rows as a MySQL-style dump (each INSERT on one line)
//   data/events/YYYY/MM/DD/*.jsonl, data/exports/*.csv
//   seeds/sample_expectations.csv               the planted defects, checked by tests/data/assert_sample_*.sql
// The app tables go through a throwaway MariaDB (started here the way tests/harness/mariadb.ts
// does) with zero and invalid dates allowed, so the dump is what a real TypeORM database yields.
// Usage: node scripts/make-app-dump.mjs [--seed N]
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { APP_DDL, createDataset } from './lib/reference-data.mjs';
import { appTables, valuesTuple, writeEvents, writeExports } from './lib/writers.mjs';
import { expectationRows } from './lib/expectations.mjs';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = { installDb: '/usr/bin/mariadb-install-db', server: '/usr/sbin/mariadbd', client: '/usr/bin/mariadb', dump: '/usr/bin/mariadb-dump' };

const args = process.argv.slice(2);
const seedArg = args.indexOf('--seed');
const dataset = createDataset(seedArg >= 0 ? { seed: Number(args[seedArg + 1]) } : {});

for (const path of Object.values(bin)) {
  if (!existsSync(path)) throw new Error(`${path} missing: apt-get install mariadb-server mariadb-client`);
}

const dir = mkdtempSync(join(tmpdir(), 'kiln-app-dump-'));
const socket = join(dir, 'mysqld.sock');
const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
let server;
try {
  await run(bin.installDb, ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asUser]);
  const port = await freePort();
  const log = openSync(join(dir, 'server.log'), 'a');
  server = spawn(bin.server, [
    '--no-defaults', `--datadir=${join(dir, 'data')}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
    '--skip-name-resolve', `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${join(dir, 'error.log')}`,
    '--innodb-buffer-pool-size=32M', ...asUser,
  ], { cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);
  const mysql = (sql, database) => run(bin.client, ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '-e', sql, ...(database ? [database] : [])], { maxBuffer: 1 << 28 });
  await waitFor(() => mysql('SELECT 1'), server);

  // TypeORM apps on MySQL 5.x-era settings: zero dates and out-of-calendar dates are accepted.
  const load = join(dir, 'load.sql');
  let sql = "SET SESSION sql_mode='ALLOW_INVALID_DATES'; SET SESSION time_zone='+00:00';\n" + APP_DDL + '\n';
  for (const [table, rows] of appTables(dataset)) {
    const tuples = [...rows].map((row) => valuesTuple(table, row));
    for (let i = 0; i < tuples.length; i += 200) sql += `INSERT INTO \`${table}\` VALUES ${tuples.slice(i, i + 200).join(',\n')};\n`;
  }
  writeFileSync(load, sql);
  await mysql('CREATE DATABASE app');
  await run('/bin/sh', ['-c', `${bin.client} --no-defaults --socket=${socket} --user=root app < ${load}`]);

  const dumpArgs = ['--no-defaults', `--socket=${socket}`, '--user=root', '--tz-utc', '--skip-dump-date', '--databases', 'app'];
  mkdirSync(join(root, 'data/mysql'), { recursive: true });
  // mariadb-dump's own style (10.11: extended INSERTs of many rows); --databases adds CREATE DATABASE/USE.
  await run(bin.dump, [...dumpArgs.slice(0, -2), `--result-file=${join(root, 'data/mysql/app.sql')}`, 'app']);
  // MySQL's mysqldump style: every row of an INSERT on one line. mariadb-dump 10.11 puts each
  // row on its own line, so the rows are joined (strings never hold a raw newline: it is
  // escaped as \n) and MariaDB's sandbox-mode line, which MySQL clients reject, is dropped.
  mkdirSync(join(root, 'tests/fixtures/reference'), { recursive: true });
  const mariaStyle = readFileSync(join(root, 'data/mysql/app.sql'), 'utf8');
  const mysqlStyle = mariaStyle
    .replace(/^\/\*M!999999\\- enable the sandbox mode \*\/ *\n/, '')
    .replace(/ VALUES\n\(/g, ' VALUES (')
    .replace(/\),\n\(/g, '),(');
  writeFileSync(join(root, 'tests/fixtures/reference/app-oneline.sql'), mysqlStyle);
  // ...and one row per INSERT line (--skip-extended-insert), the third shape loaders meet.
  await run(bin.dump, [...dumpArgs.slice(0, -2), '--skip-extended-insert', `--result-file=${join(root, 'tests/fixtures/reference/app-rowwise.sql')}`, 'app']);
} finally {
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}

await writeEvents(dataset, join(root, 'data'));
await writeExports(dataset, join(root, 'data'));
writeFileSync(join(root, 'seeds/sample_expectations.csv'), expectationRows(dataset.truth).map((r) => r.join(',')).join('\n') + '\n');
writeFileSync(join(root, 'tests/fixtures/reference/ground-truth.json'), JSON.stringify(dataset.truth, null, 2) + '\n');
console.log(JSON.stringify(dataset.truth, null, 2));

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
  });
}

async function waitFor(probe, child) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mariadbd exited: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000)}`);
    try { await probe(); return; } catch (error) { if (Date.now() > deadline) throw error; }
    await new Promise((ok) => setTimeout(ok, 100));
  }
}
