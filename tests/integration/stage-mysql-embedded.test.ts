import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithMariaDb } from '../harness/mariadb.js';
import { allOutput, REPO_ROOT, removeProjects, runKiln } from '../helpers/kiln-cli.js';
import { runStage, stageProject } from '../helpers/stage-project.js';
import { queryTarget } from '../helpers/warehouse.js';

afterAll(removeProjects);

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'tests/fixtures/stage', name), 'utf8');

const TABLES = `    tables:
      - name: content
      - name: users
      - name: reviews
        incremental_key: id
`;

const liveSources = `sources:
  - name: app
    loader: mysql
    connection: { host: "{{ env_var('MYSQL_HOST', '') }}", port: "{{ env_var('MYSQL_PORT', '3306') }}", database: app,
                  user: "{{ env_var('MYSQL_USER', '') }}", password: "{{ env_var('MYSQL_PASSWORD', '') }}" }
${TABLES}`;

const dumpSources = (file: string) => `sources:
  - name: app
    loader: mysql
    dump: ${file}
${TABLES}`;

const CONTENT = `SELECT id, title, genre, toString(created_at) AS created_at, cast, toString(hype_index) AS hype FROM raw.app__content ORDER BY id`;
const EXPECTED_CONTENT = [
  { id: 1, title: 'The "Quoted" Title', genre: ' Drama ', created_at: '2024-01-02 03:04:05', cast: '["Ann O\'Neil", "Bob \\"B\\" Smith"]', hype: '7.5' },
  { id: 2, title: "It's a back\\slash; and, comma", genre: 'comedy', created_at: '1970-01-01 00:00:00', cast: null, hype: null },
  { id: 3, title: 'Multi\nline title', genre: null, created_at: '2023-12-31 23:59:59', cast: '[]', hype: '99.99' },
];

describeWithMariaDb('staging MySQL into the embedded engine', (getServer) => {
  const env = () => {
    const s = getServer();
    return { MYSQL_HOST: s.host, MYSQL_PORT: String(s.port), MYSQL_USER: s.user, MYSQL_PASSWORD: s.password };
  };
  let dumpDir = '';

  it('loads real dumps in both INSERT styles, with zero and impossible dates, JSON and escaped quotes', async () => {
    const s = getServer();
    await s.query(fixture('app-schema.sql') + fixture('app-data.sql'), s.database);
    for (const extendedInsert of [true, false]) {
      const dir = stageProject(dumpSources('dump/app.sql'));
      dumpDir ||= dir;
      mkdirSync(join(dir, 'dump'), { recursive: true });
      await s.dump(join(dir, 'dump/app.sql'), { extendedInsert });
      // Both styles really were exercised: one row per line, or one INSERT per row.
      expect(readFileSync(join(dir, 'dump/app.sql'), 'utf8')).toMatch(extendedInsert ? /VALUES\n\(1,/ : /VALUES \(2,1,2,NULL/);
      const { results, infos } = await runStage(dir);
      expect(results.map((r) => r.status)).toEqual(['success', 'success', 'success']);
      expect(infos).toContain('app.reviews: 1 file(s) (0 unchanged), 3 row(s) loaded, 0 rejected');
      expect(await queryTarget(dir, CONTENT)).toEqual(EXPECTED_CONTENT);
      expect(await queryTarget(dir, `SELECT toString(registration_date) AS d, toString(last_login) AS l FROM raw.app__users ORDER BY id`)).toEqual([
        { d: '2024-01-01 00:00:00', l: null },
        // a zero date and an impossible one (2024-02-30, kept by MySQL's ALLOW_INVALID_DATES) become the epoch
        { d: '1970-01-01 00:00:00', l: '1970-01-01 00:00:00' },
      ]);
      const again = await runStage(dir);
      expect(again.infos).toContain('app.content: 1 file(s) (1 unchanged), 0 row(s) loaded, 0 rejected');
    }
  });

  it('a table missing from the dump is exit 2 naming the tables there', async () => {
    const dir = stageProject(dumpSources(join(dumpDir, 'dump/app.sql')).replace('- name: users', '- name: userz'));
    const r = await runKiln(dir, ['stage']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\.yml:\d+: source app: table 'userz' is not in the dump/);
    expect(r.stderr).toContain("did you mean 'users'? tables there: content, reviews, users");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('loads a live database with mysql(), incrementally past the highest key', async () => {
    const dir = stageProject(liveSources);
    const first = await runStage(dir, { env: env() });
    expect(first.results.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expect(await queryTarget(dir, CONTENT)).toEqual(EXPECTED_CONTENT);
    const s = getServer();
    await s.query(`INSERT INTO reviews VALUES (4, 3, 2, 5.00, '2024-04-01 00:00:00')`, s.database);
    const second = await runStage(dir, { env: env() });
    expect(second.infos).toContain('app.reviews: 1 row(s) loaded, 0 rejected');
    expect(await queryTarget(dir, `SELECT groupArray(id) AS ids FROM (SELECT id FROM raw.app__reviews ORDER BY id)`)).toEqual([{ ids: [1, 2, 3, 4] }]);
  });

  it('a wrong password or an unreachable server is exit 2 naming host and user, never the password', async () => {
    const dir = stageProject(liveSources);
    const wrong = await runKiln(dir, ['stage'], { env: { ...env(), MYSQL_PASSWORD: 'not-the-Secret-42' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`cannot read MySQL at 127.0.0.1:${getServer().port} as user 'kiln'`);
    expect(wrong.stderr).toContain('Access denied');
    expect(allOutput(wrong)).not.toContain('not-the-Secret-42');
    const down = await runKiln(dir, ['stage'], { env: { ...env(), MYSQL_PORT: '1', MYSQL_PASSWORD: 'not-the-Secret-42' } });
    expect(down.code).toBe(2);
    expect(down.stderr).toContain("cannot read MySQL at 127.0.0.1:1 as user 'kiln'");
    expect(allOutput(down)).not.toContain('not-the-Secret-42');
    for (const file of ['target/manifest.json', 'target/run_results.json']) {
      if (existsSync(join(dir, file))) expect(readFileSync(join(dir, file), 'utf8')).not.toContain('not-the-Secret-42');
    }
  });

  it('a table missing from the live database is exit 2 naming the tables there', async () => {
    const dir = stageProject(liveSources.replace('- name: users', '- name: usrs'));
    const r = await runKiln(dir, ['stage'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("table 'usrs' is not in the MySQL database mysql://kiln@127.0.0.1");
    expect(r.stderr).toContain('tables there: content, reviews, users');
  });
});
