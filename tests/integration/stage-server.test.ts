import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { describeWithMariaDb } from '../harness/mariadb.js';
import { REPO_ROOT, removeProjects, writeFiles } from '../helpers/kiln-cli.js';
import { runStage, stageProject } from '../helpers/stage-project.js';
import { queryTarget } from '../helpers/warehouse.js';

afterAll(removeProjects);

const TARGET = `dev: { engine: clickhouse, url: "{{ env_var('CH_URL') }}", username: "{{ env_var('CH_USER') }}", password: "{{ env_var('CH_PASSWORD') }}", database: analytics, raw_database: "{{ env_var('RAW_DB') }}" }`;
const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'tests/fixtures/stage', name), 'utf8');

describeWithClickHouse('staging into a ClickHouse 18.16 server', (getClickHouse) => {
  let n = 0;
  const chEnv = (extra: Record<string, string> = {}) => {
    const s = getClickHouse();
    return { CH_URL: s.url, CH_USER: s.username, CH_PASSWORD: s.password, RAW_DB: `raw${n}`, ...extra };
  };

  it('streams JSON lines and CSV parsed locally; rejects quarantined; reruns load nothing twice', async () => {
    n++;
    const env = chEnv();
    const dir = stageProject(
      `sources:
  - name: events
    loader: jsonl
    tables:
      - name: typed
        path: "logs/**/*.jsonl"
        max_rejected: 5
        columns: [{ name: ts, type: "DateTime('UTC')" }, { name: event, type: String }, { name: user_id, type: "Nullable(UInt32)" }]
  - name: exports
    loader: csv
    tables:
      - { name: titles, path: "titles.csv", delimiter: ";" }
`,
      {
        'logs/2025/11/04/a.jsonl': '{"ts":"2025-11-04T12:34:56Z","event":"a\\tb","user_id":42}\n{"ts":"2025-11-04T13:00:00Z","event":"b"}\n{oops\n',
        'logs/2025/11/05/b.jsonl': '{"ts":"2025-11-05T00:00:00Z","event":"c\\nd","user_id":7}\n',
        'titles.csv': 'id;title\n1;"a;b"\n2;x;extra\n',
      },
      TARGET,
    );
    const first = await runStage(dir, { env });
    expect(first.results.map((r) => r.status)).toEqual(['success', 'success']);
    expect(first.infos.sort()).toEqual(['events.typed: 2 file(s) (0 unchanged), 3 row(s) loaded, 1 rejected', 'exports.titles: 1 file(s) (0 unchanged), 1 row(s) loaded, 1 rejected']);
    expect(await queryTarget(dir, `SELECT toString(ts) AS ts, event, user_id, toString(_kiln_line) AS line FROM raw1.events__typed ORDER BY ts`, { env })).toEqual([
      { ts: '2025-11-04 12:34:56', event: 'a\tb', user_id: 42, line: '1' },
      { ts: '2025-11-04 13:00:00', event: 'b', user_id: null, line: '2' },
      { ts: '2025-11-05 00:00:00', event: 'c\nd', user_id: 7, line: '1' },
    ]);
    expect(await queryTarget(dir, `SELECT table_name, toString(line) AS line, raw, reason FROM raw1._kiln_quarantine ORDER BY table_name`, { env })).toEqual([
      { table_name: 'titles', line: '3', raw: '2;x;extra', reason: 'wrong column count (expected 2)' },
      { table_name: 'typed', line: '3', raw: '{oops', reason: 'malformed JSON' },
    ]);
    const again = await runStage(dir, { env });
    expect(again.infos.sort()).toEqual(['events.typed: 2 file(s) (2 unchanged), 0 row(s) loaded, 0 rejected', 'exports.titles: 1 file(s) (1 unchanged), 0 row(s) loaded, 0 rejected']);
    writeFiles(dir, { 'logs/2025/11/04/a.jsonl': '{"ts":"2025-11-04T12:34:56Z","event":"replaced"}\n' });
    const changed = await runStage(dir, { env, select: ['source:events'] });
    expect(changed.infos).toEqual(['events.typed: 2 file(s) (1 unchanged), 1 row(s) loaded, 0 rejected']);
    // The old version's rows and its reject are gone (an ALTER … DELETE mutation on 18.16).
    expect(await queryTarget(dir, `SELECT event FROM raw1.events__typed ORDER BY event`, { env })).toEqual([{ event: 'c\nd' }, { event: 'replaced' }]);
    expect(await queryTarget(dir, `SELECT count() AS n FROM raw1._kiln_quarantine WHERE table_name = 'typed'`, { env })).toEqual([{ n: '0' }]);
  });

  it('JSON lines without narrow integers go straight to the rows table, each row stamped with its file; a line naming _kiln_line or holding two objects is read again', async () => {
    n++;
    const env = chEnv();
    const dir = stageProject(
      `sources:
  - name: ev
    loader: jsonl
    tables:
      - name: wide
        path: "logs/*.jsonl"
        columns: [{ name: user_id, type: Int64 }, { name: meta, type: String }]
`,
      {
        'logs/a.jsonl': '{"user_id":1,"meta":"x"}\n{"user_id":2,"meta":{"_kiln_line":1}}\n{"user_id":3}{"user_id":4}\n',
        'logs/b.jsonl': '{"user_id":5,"_kiln_line":99}\n\n{"user_id":"six"}\n{"user_id":7}\n',
      },
      TARGET,
    );
    const { results, infos } = await runStage(dir, { env });
    expect(results.map((r) => r.status)).toEqual(['success']);
    expect(infos).toEqual(['ev.wide: 2 file(s) (0 unchanged), 4 row(s) loaded, 2 rejected']);
    const db = `raw${n}`;
    expect(await queryTarget(dir, `SELECT user_id, meta, replaceRegexpOne(_kiln_file, '.*/', '') AS file, toString(_kiln_line) AS line FROM ${db}.ev__wide ORDER BY user_id`, { env })).toEqual([
      { user_id: '1', meta: 'x', file: 'a.jsonl', line: '1' },
      { user_id: '2', meta: '{"_kiln_line":1}', file: 'a.jsonl', line: '2' },
      { user_id: '5', meta: '', file: 'b.jsonl', line: '1' },
      { user_id: '7', meta: '', file: 'b.jsonl', line: '4' },
    ]);
    expect(await queryTarget(dir, `SELECT replaceRegexpOne(file, '.*/', '') AS file, toString(line) AS line, reason FROM ${db}._kiln_quarantine ORDER BY file`, { env })).toEqual([
      { file: 'a.jsonl', line: '3', reason: 'malformed JSON' },
      { file: 'b.jsonl', line: '3', reason: 'unparseable value for user_id (Int64)' },
    ]);
  });

  describeWithMariaDb('with MariaDB', (getMariaDb) => {
    it("loads a dump read by the local engine (no MySQLDump on 18.16) and a live table (pulled by the local engine: 18.16's mysql() drops NULLs)", async () => {
      n++;
      const my = getMariaDb();
      await my.query(fixture('app-schema.sql') + fixture('app-data.sql'), my.database);
      const env = chEnv({ MYSQL_HOST: my.host, MYSQL_PORT: String(my.port), MYSQL_USER: my.user, MYSQL_PASSWORD: my.password });
      const dir = stageProject(
        `sources:
  - name: app
    loader: mysql
    dump: dump/app.sql
    tables: [{ name: content }, { name: users }]
  - name: live
    loader: mysql
    connection: { host: "{{ env_var('MYSQL_HOST') }}", port: "{{ env_var('MYSQL_PORT') }}", database: app, user: "{{ env_var('MYSQL_USER') }}", password: "{{ env_var('MYSQL_PASSWORD') }}" }
    tables: [{ name: reviews, incremental_key: id }]
`,
        {},
        TARGET,
      );
      mkdirSync(join(dir, 'dump'));
      await my.dump(join(dir, 'dump/app.sql'));
      const { results } = await runStage(dir, { env });
      expect(results.map((r) => [r.unique_id, r.status])).toEqual([
        ['source.staged.app.content', 'success'],
        ['source.staged.app.users', 'success'],
        ['source.staged.live.reviews', 'success'],
      ]);
      expect(await queryTarget(dir, `SELECT id, title, if(toUInt32(created_at) = 0, 'epoch', toString(created_at)) AS created_at, cast FROM raw${n}.app__content ORDER BY id`, { env })).toEqual([
        { id: 1, title: 'The "Quoted" Title', created_at: '2024-01-02 03:04:05', cast: '["Ann O\'Neil", "Bob \\"B\\" Smith"]' },
        { id: 2, title: "It's a back\\slash; and, comma", created_at: 'epoch', cast: null },
        { id: 3, title: 'Multi\nline title', created_at: '2023-12-31 23:59:59', cast: '[]' },
      ]);
      expect(await queryTarget(dir, `SELECT id, toString(rating) AS rating FROM raw${n}.live__reviews ORDER BY id`, { env })).toEqual([
        // MySQL's DECIMAL(5,2) kept, and its NULL (18.16's own mysql() would have made it '').
        { id: 1, rating: '8.50' },
        { id: 2, rating: null },
        { id: 3, rating: '11.00' },
      ]);
      await my.query(`INSERT INTO reviews VALUES (4, 3, 2, 5.00, '2024-04-01 00:00:00')`, my.database);
      const second = await runStage(dir, { env });
      expect(second.infos).toContain('live.reviews: 1 row(s) loaded, 0 rejected');
      expect(second.infos).toContain('app.content: 1 file(s) (1 unchanged), 0 row(s) loaded, 0 rejected');
      expect(await queryTarget(dir, `SELECT count() AS n FROM raw${n}.live__reviews`, { env })).toEqual([{ n: '4' }]);
    });
  });
});
