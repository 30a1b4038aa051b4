// Staging speed and memory (issue 3): kiln stage against ClickHouse's own ingestion of the same
// input, in the same run. Prints one table. Inputs are generated under os.tmpdir(), never in the repo.
//
//   node bench/stage-bench.js            (after npm run build)
//   STAGE_BENCH_LINES=200000 node bench/stage-bench.js   a quicker, smaller run
//   STAGE_BENCH_ONLY=server node bench/stage-bench.js     only some rows (embedded, server, mysql)
//   STAGE_BENCH_REPS=5 node bench/stage-bench.js          runs per side (median; default 3)
//
// Rows: JSONL (2M lines, ~190 MB, and the same doubled) on the embedded engine and on a local
// clickhouse-server; a 1M-row MySQL table live (mysql()) and from a mariadb-dump file. Servers are
// started here on free loopback ports when their binaries are installed, else those rows are skipped.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const KILN = join(repo, 'bin/kiln.js');
const LINES = Number(process.env.STAGE_BENCH_LINES ?? 2_000_000);
const MYSQL_ROWS = Number(process.env.STAGE_BENCH_MYSQL_ROWS ?? 1_000_000);
const REPS = Math.max(1, Number(process.env.STAGE_BENCH_REPS ?? 3));
const ONLY = new Set((process.env.STAGE_BENCH_ONLY ?? 'embedded,server,mysql').split(',').map((s) => s.trim()));
const work = mkdtempSync(join(tmpdir(), 'kiln-stage-bench-'));
const COLUMNS = "ts String, event String, user_id Int64, content_id Int64, rating Float64";
const results = [];

/** Runs a command as a fresh process under /usr/bin/time: wall seconds and peak RSS in MB. */
function measure(label, cmd, args, opts = {}) {
  const out = join(work, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${label} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const [wall, kb] = readFileSync(out, 'utf8').trim().split('\n').pop().split(/\s+/).map(Number);
  return { wall, rssMb: kb / 1024 };
}

/**
 * Native and kiln, each `REPS` times in turn from the same state (`reset` before each run):
 * the median wall time and peak RSS of each, so one slow run on a busy machine does not decide.
 */
async function compare(native, kiln) {
  const runs = { native: [], kiln: [] };
  for (let i = 0; i < REPS; i++) {
    for (const [name, side] of Object.entries({ native, kiln })) {
      await side.reset();
      runs[name].push(side.run());
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const summary = (rs) => ({ wall: med(rs.map((r) => r.wall)), rssMb: med(rs.map((r) => r.rssMb)) });
  return [summary(runs.native), summary(runs.kiln)];
}

/** A child node script, so each measurement is its own process. */
function nodeScript(name, text) {
  const file = join(work, name);
  writeFileSync(file, text);
  return file;
}

async function generateJsonl(file, lines) {
  const out = createWriteStream(file);
  const events = ['review_created', 'carousel_impression', 'page_view', 'search', 'play_started'];
  let buf = [];
  for (let i = 0; i < lines; i++) {
    const ts = new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString().replace('.000', '');
    buf.push(`{"ts":"${ts}","event":"${events[i % 5]}","user_id":${(i * 7919) % 100000},"content_id":${1000 + (i % 5000)},"rating":${(i % 100) / 10}}`);
    if (buf.length === 10_000) {
      if (!out.write(buf.join('\n') + '\n')) await new Promise((r) => out.once('drain', r));
      buf = [];
    }
  }
  out.end(buf.length ? buf.join('\n') + '\n' : '');
  await new Promise((r) => out.on('finish', r));
}

function project(dir, sources, target) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'project.yml'), `name: bench\nversion: 1\ntarget: dev\ntargets:\n  dev: ${target}\n`);
  writeFileSync(join(dir, 'sources.yml'), sources);
}

const jsonlSources = (file) => `sources:
  - name: ev
    loader: jsonl
    tables:
      - name: events
        path: ${JSON.stringify(file)}
        columns: [{ name: ts, type: String }, { name: event, type: String }, { name: user_id, type: Int64 }, { name: content_id, type: Int64 }, { name: rating, type: Float64 }]
`;

function row(input, engine, native, kiln) {
  results.push({ input, engine, native, kiln });
}

// --- embedded ------------------------------------------------------------------------------
const CHDB = JSON.stringify(join(repo, 'node_modules/chdb/index.mjs'));
const nativeEmbedded = nodeScript(
  'native-embedded.mjs',
  `import { Session } from ${CHDB};
const [dir, sql] = process.argv.slice(2);
const s = new Session(dir);
for (const q of sql.split(';;')) await s.queryAsync(q);
s.close();
`,
);

async function jsonlFile(lines) {
  const file = join(work, `events-${lines}.jsonl`);
  await generateJsonl(file, lines);
  return file;
}

async function embeddedJsonl(file, lines) {
  const size = statSync(file).size;
  const db = join(work, `native-${lines}`);
  const dir = join(work, `kiln-embedded-${lines}`);
  project(dir, jsonlSources(file), '{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }');
  const [native, kiln] = await compare(
    {
      reset: () => rmSync(db, { recursive: true, force: true }),
      run: () =>
        measure('native embedded', process.execPath, [
          nativeEmbedded,
          db,
          `CREATE DATABASE raw;;CREATE TABLE raw.events (${COLUMNS}) ENGINE = MergeTree ORDER BY tuple();;INSERT INTO raw.events SELECT * FROM file('${file}', 'JSONEachRow', '${COLUMNS}') SETTINGS input_format_skip_unknown_fields = 1`,
        ]),
    },
    { reset: () => rmSync(join(dir, '.kiln'), { recursive: true, force: true }), run: () => measure('kiln embedded', process.execPath, [KILN, 'stage', '--project-dir', dir]) },
  );
  row(`JSONL ${(lines / 1e6).toFixed(1)}M lines, ${(size / 1e6).toFixed(0)} MB`, 'embedded', native, kiln);
  rmSync(db, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}

// --- servers ---------------------------------------------------------------------------------
function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

async function waitFor(fn, what) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function http(url, body, headers = {}) {
  return new Promise((res, rej) => {
    const req = request(url, { method: body === undefined ? 'GET' : 'POST', headers, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', rej);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

async function startClickHouse() {
  const bin = ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server'].find(existsSync);
  if (!bin) return null;
  const dir = join(work, 'ch');
  mkdirSync(dir);
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  const password = randomBytes(8).toString('hex');
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?><yandex><logger><level>warning</level><log>${dir}/log/s.log</log><errorlog>${dir}/log/e.log</errorlog><console>0</console></logger>
<listen_host>127.0.0.1</listen_host><http_port>${httpPort}</http_port><tcp_port>${tcpPort}</tcp_port><path>${dir}/data/</path><tmp_path>${dir}/tmp/</tmp_path>
<user_files_path>${dir}/uf/</user_files_path><users_config>users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database><timezone>UTC</timezone>
<mark_cache_size>268435456</mark_cache_size><mlock_executable>false</mlock_executable></yandex>`);
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?><yandex><profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
<users><kiln><password>${password}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></kiln></users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>`);
  const child = spawn(bin, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
  const url = `http://127.0.0.1:${httpPort}`;
  const auth = { 'X-ClickHouse-User': 'kiln', 'X-ClickHouse-Key': password };
  await waitFor(async () => (await http(`${url}/ping`)).status === 200, 'clickhouse-server');
  const sql = async (q, body) => {
    const r = await http(`${url}/?query=${encodeURIComponent(q)}`, body ?? '', auth);
    if (r.status !== 200) throw new Error(`${q.slice(0, 80)}: ${r.body}`);
    return r.body;
  };
  return { url, password, sql, stop: () => child.kill('SIGTERM') };
}

async function serverJsonl(ch, file, lines) {
  const size = statSync(file).size;
  await ch.sql(`CREATE DATABASE IF NOT EXISTS native`);
  await ch.sql(`DROP TABLE IF EXISTS native.events`);
  await ch.sql(`CREATE TABLE native.events (${COLUMNS}) ENGINE = MergeTree ORDER BY tuple()`);
  const raw = `raw${lines}`;
  const poster = nodeScript(
    'native-post.mjs',
    `import { request } from 'node:http'; import { createReadStream } from 'node:fs';
const [url, user, key, file] = process.argv.slice(2);
const q = encodeURIComponent('INSERT INTO native.events FORMAT JSONEachRow');
await new Promise((res, rej) => { const req = request(url + '/?query=' + q, { method: 'POST', headers: { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': key } }, (r) => { r.resume(); r.on('end', () => r.statusCode === 200 ? res() : rej(new Error('HTTP ' + r.statusCode))); }); req.on('error', rej); createReadStream(file).pipe(req); });
`,
  );
  const dir = join(work, `kiln-server-${lines}`);
  project(dir, jsonlSources(file), `{ engine: clickhouse, url: "${ch.url}", username: kiln, password: "{{ env_var('CH_PASSWORD') }}", database: analytics, raw_database: ${raw} }`);
  const [native, kiln] = await compare(
    { reset: () => ch.sql('TRUNCATE TABLE native.events'), run: () => measure('native server POST', process.execPath, [poster, ch.url, 'kiln', ch.password, file]) },
    {
      reset: () => ch.sql(`DROP DATABASE IF EXISTS ${raw}`),
      run: () => measure('kiln server', process.execPath, [KILN, 'stage', '--project-dir', dir], { env: { ...process.env, CH_PASSWORD: ch.password } }),
    },
  );
  row(`JSONL ${(lines / 1e6).toFixed(1)}M lines, ${(size / 1e6).toFixed(0)} MB`, 'server 18.16', native, kiln);
}

async function startMariaDb() {
  const bins = ['/usr/bin/mariadb-install-db', '/usr/sbin/mariadbd', '/usr/bin/mariadb', '/usr/bin/mariadb-dump'];
  if (!bins.every(existsSync)) return null;
  const dir = join(work, 'my');
  const asUser = process.getuid?.() === 0 ? ['--user=root'] : [];
  execFileSync(bins[0], ['--no-defaults', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asUser], { stdio: 'ignore' });
  const port = await freePort();
  const socket = join(dir, 'sock');
  const child = spawn(bins[1], ['--no-defaults', `--datadir=${dir}/data`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve', `--pid-file=${dir}/pid`, `--log-error=${dir}/err.log`, '--innodb-buffer-pool-size=256M', ...asUser], { stdio: 'ignore' });
  const sql = (q, db) => execFileSync(bins[2], ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '-e', q, ...(db ? [db] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  await waitFor(async () => sql('SELECT 1'), 'mariadbd');
  const password = randomBytes(8).toString('hex');
  sql(`CREATE DATABASE app; CREATE USER 'kiln'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL ON app.* TO 'kiln'@'127.0.0.1';`);
  const dump = (file) => execFileSync(bins[3], ['--no-defaults', '--host=127.0.0.1', `--port=${port}`, '--user=kiln', `--password=${password}`, `--result-file=${file}`, 'app']);
  return { port, password, sql, dump, stop: () => child.kill('SIGTERM') };
}

async function mysqlRows(my) {
  const n = MYSQL_ROWS;
  my.sql(
    `CREATE TABLE reviews (id INT PRIMARY KEY, content_id INT NOT NULL, user_id INT NOT NULL, rating DECIMAL(5,2) NULL, body VARCHAR(100), created_at DATETIME NOT NULL);
     INSERT INTO reviews SELECT seq, seq % 5000, seq % 100000, IF(seq % 17 = 0, NULL, (seq % 1000) / 100), CONCAT('it''s review #', seq), '2024-01-01' + INTERVAL (seq % 31536000) SECOND FROM seq_1_to_${n};`,
    'app',
  );
  const env = { ...process.env, MYSQL_PASSWORD: my.password };
  const mysqlFn = `mysql('127.0.0.1:${my.port}', 'app', 'reviews', 'kiln', '${my.password}')`;
  const db = join(work, 'native-mysql');
  const dir = join(work, 'kiln-mysql');
  project(
    dir,
    `sources:\n  - name: app\n    loader: mysql\n    connection: { host: 127.0.0.1, port: ${my.port}, database: app, user: kiln, password: "{{ env_var('MYSQL_PASSWORD') }}" }\n    tables: [{ name: reviews }]\n`,
    '{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }',
  );
  const [native, kiln] = await compare(
    { reset: () => rmSync(db, { recursive: true, force: true }), run: () => measure('native mysql()', process.execPath, [nativeEmbedded, db, `CREATE TABLE r ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM ${mysqlFn}`]) },
    { reset: () => rmSync(join(dir, '.kiln'), { recursive: true, force: true }), run: () => measure('kiln mysql live', process.execPath, [KILN, 'stage', '--project-dir', dir], { env }) },
  );
  row(`MySQL table, ${(n / 1e6).toFixed(1)}M rows, live`, 'embedded', native, kiln);

  const dumpFile = join(work, 'app.sql');
  my.dump(dumpFile);
  const db2 = join(work, 'native-dump');
  const dir2 = join(work, 'kiln-dump');
  project(dir2, `sources:\n  - name: app\n    loader: mysql\n    dump: ${JSON.stringify(dumpFile)}\n    tables: [{ name: reviews }]\n`, '{ engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }');
  const [nativeDump, kilnDump] = await compare(
    {
      reset: () => rmSync(db2, { recursive: true, force: true }),
      run: () =>
        measure('native MySQLDump', process.execPath, [
          nativeEmbedded,
          db2,
          `CREATE TABLE r ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM file('${dumpFile}', 'MySQLDump') SETTINGS input_format_mysql_dump_table_name = 'reviews'`,
        ]),
    },
    { reset: () => rmSync(join(dir2, '.kiln'), { recursive: true, force: true }), run: () => measure('kiln mysql dump', process.execPath, [KILN, 'stage', '--project-dir', dir2]) },
  );
  row(`mariadb-dump, ${(n / 1e6).toFixed(1)}M rows, ${(statSync(dumpFile).size / 1e6).toFixed(0)} MB`, 'embedded', nativeDump, kilnDump);
}

function print() {
  const lines = [
    '| input | engine | native s | kiln s | time × | native peak RSS MB | kiln peak RSS MB | RSS × |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(({ input, engine, native, kiln }) =>
      `| ${input} | ${engine} | ${native.wall.toFixed(2)} | ${kiln.wall.toFixed(2)} | ${(kiln.wall / native.wall).toFixed(2)} | ${native.rssMb.toFixed(0)} | ${kiln.rssMb.toFixed(0)} | ${(kiln.rssMb / native.rssMb).toFixed(2)} |`,
    ),
  ];
  console.log(`\nkiln stage vs ClickHouse's own ingestion, medians of ${REPS} runs each (goals: time ≤ 1.5×; RSS ≤ 1.5× embedded, ≤ 200 MB server path, flat when the file doubles)\n`);
  console.log(lines.join('\n'));
}

let ch = null;
let my = null;
try {
  if (!existsSync(join(repo, 'dist/cli/kiln.bundle.js'))) throw new Error('run npm run build first');
  const files = ONLY.has('embedded') || ONLY.has('server') ? [[LINES, await jsonlFile(LINES)], [LINES * 2, await jsonlFile(LINES * 2)]] : [];
  if (ONLY.has('embedded')) for (const [lines, file] of files) await embeddedJsonl(file, lines);
  ch = ONLY.has('server') ? await startClickHouse() : null;
  if (ch) for (const [lines, file] of files) await serverJsonl(ch, file, lines);
  else if (ONLY.has('server')) console.log('clickhouse-server not installed: server rows skipped');
  for (const [, file] of files) rmSync(file, { force: true });
  my = ONLY.has('mysql') ? await startMariaDb() : null;
  if (my) await mysqlRows(my);
  else if (ONLY.has('mysql')) console.log('mariadb-server not installed: MySQL rows skipped');
  print();
} finally {
  ch?.stop();
  my?.stop();
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(work, { recursive: true, force: true });
}
