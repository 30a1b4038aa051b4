import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithMariaDb, type MariaDbServer } from '../harness/mariadb.js';
import { readJson, REPO_ROOT, removeProjects, runKiln, runResults, STACK_FRAME, startKiln, writeFiles } from '../helpers/kiln-cli.js';
import { stageProject } from '../helpers/stage-project.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/**
 * A `loader: mysql` source without `tables:` loads every table of the database (live, or created
 * in a dump), including tables no model reads, through the real CLI against a real MariaDB.
 */

afterAll(removeProjects);

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'tests/fixtures/stage', name), 'utf8');

// Besides the fixture's content, users and reviews: a table no model reads, an empty table
// (CREATE TABLE and no INSERT in a dump) between tables with rows, and a view (not a table).
const EXTRA = `CREATE TABLE audit_log (id INT PRIMARY KEY, action VARCHAR(20) NOT NULL);
INSERT INTO audit_log VALUES (1, 'login'), (2, 'logout');
CREATE TABLE coming_soon_items (id INT PRIMARY KEY, content_id INT NULL, title VARCHAR(200) NOT NULL, release_date DATE NULL, is_active TINYINT(1) NOT NULL);
CREATE VIEW active_users AS SELECT id FROM users WHERE is_active = 1;
`;

const CONNECTION = `connection: { host: "{{ env_var('MYSQL_HOST', '') }}", port: "{{ env_var('MYSQL_PORT', '3306') }}", database: app,
                  user: "{{ env_var('MYSQL_USER', '') }}", password: "{{ env_var('MYSQL_PASSWORD', '') }}" }`;

const liveSources = `sources:
  - name: app
    loader: mysql
    ${CONNECTION}
`;

const dumpSources = `sources:
  - name: app
    loader: mysql
    dump: dump/app.sql
`;

const MODELS = { 'models/stg_users.sql': "SELECT id, upper(trim(role)) AS role FROM {{ source('app', 'users') }}" };

const RAW_TABLES = ['_kiln_ledger', '_kiln_quarantine', 'app__audit_log', 'app__coming_soon_items', 'app__content', 'app__reviews', 'app__users'];

const warehouse = (dir: string) => join(dir, '.kiln/dev');

async function rowCounts(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of RAW_TABLES.filter((n) => n.startsWith('app__'))) {
    const [r] = await queryWarehouse<{ n: string }>(warehouse(dir), `SELECT count() AS n FROM raw.${t}`);
    out[t] = Number(r!.n);
  }
  return out;
}

const columnsOf = (dir: string, table: string) =>
  queryWarehouse<{ name: string; type: string }>(warehouse(dir), `SELECT name, type FROM system.columns WHERE database = 'raw' AND table = '${table}' ORDER BY position`);

describeWithMariaDb('a mysql source without tables: stages the whole database', (getServer) => {
  const env = (s: MariaDbServer = getServer()) => ({ MYSQL_HOST: s.host, MYSQL_PORT: String(s.port), MYSQL_USER: s.user, MYSQL_PASSWORD: s.password });
  let seeded = false;
  const seed = async () => {
    const s = getServer();
    if (!seeded) await s.query(fixture('app-schema.sql') + fixture('app-data.sql') + EXTRA, s.database);
    seeded = true;
  };

  it('live: every table lands in the raw database, read or not, and a model over one builds', async () => {
    await seed();
    const dir = stageProject(liveSources, MODELS);
    const r = await runKiln(dir, ['build'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(await relationNames(warehouse(dir), 'raw')).toEqual(RAW_TABLES);
    expect(await rowCounts(dir)).toEqual({ app__audit_log: 2, app__coming_soon_items: 0, app__content: 3, app__reviews: 3, app__users: 2 });
    expect(await queryWarehouse(warehouse(dir), 'SELECT id, role FROM analytics.stg_users ORDER BY id')).toEqual([
      { id: 1, role: 'CRITIC' },
      { id: 2, role: 'USER' },
    ]);
    const results = runResults(dir);
    expect(results.get('source.staged.app.audit_log')?.status).toBe('success');
    expect(results.get('source.staged.app.users')?.status).toBe('success');
    expect(results.get('model.staged.stg_users')?.status).toBe('success');
    // Compile touches no database: the manifest holds the tables models read.
    expect(Object.keys(readJson(dir, 'target/manifest.json').sources)).toEqual(['source.staged.app.users']);

    // One table, read by no model, selected by name; other selections stay off MySQL entirely.
    const s = getServer();
    await s.query(`INSERT INTO audit_log VALUES (3, 'login')`, s.database);
    const one = await runKiln(dir, ['stage', '--select', 'source:app.audit_log'], { env: env() });
    expect(one.code, one.stderr).toBe(0);
    expect([...runResults(dir).keys()]).toEqual(['source.staged.app.audit_log']);
    expect((await rowCounts(dir)).app__audit_log).toBe(3);
    const excluded = await runKiln(dir, ['stage', '--exclude', 'source:app.audit_log'], { env: env() });
    expect(excluded.code, excluded.stderr).toBe(0);
    expect([...runResults(dir).keys()].sort()).toEqual(['source.staged.app.coming_soon_items', 'source.staged.app.content', 'source.staged.app.reviews', 'source.staged.app.users']);
    const modelOnly = await runKiln(dir, ['build', '--select', 'stg_users'], { env: { ...env(), MYSQL_PORT: '1' } });
    expect(modelOnly.code, modelOnly.stderr).toBe(0);
    expect([...runResults(dir).keys()]).toEqual(['model.staged.stg_users']);
  });

  it('live: a model reading a table the database lacks is exit 2 naming the tables there', async () => {
    await seed();
    const dir = stageProject(liveSources, { 'models/stg_users.sql': "SELECT * FROM {{ source('app', 'userz') }}" });
    const r = await runKiln(dir, ['build'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\.yml:2: source app: table 'userz' is not in the MySQL database mysql:\/\/kiln@127\.0\.0\.1:\d+\/app/);
    expect(r.stderr).toContain("did you mean 'users'? tables there: active_users, audit_log, coming_soon_items, content, reviews, users");
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(await relationNames(warehouse(dir), 'analytics').catch(() => [])).toEqual([]);
  });

  it('dump: every table the dump creates loads, the empty one with its columns, in each INSERT style', async () => {
    await seed();
    const s = getServer();
    // mariadb-dump's styles (rows on their own lines; one INSERT per row) and mysqldump's (all
    // rows of an INSERT on one line: the first style with those line breaks joined).
    const styles = {
      'mariadb-dump': (file: string) => s.dump(file),
      'mariadb-dump --skip-extended-insert': (file: string) => s.dump(file, { extendedInsert: false }),
      mysqldump: async (file: string) => {
        await s.dump(file);
        writeFileSync(file, readFileSync(file, 'utf8').replace(/ VALUES\n\(/g, ' VALUES (').replace(/\),\n\(/g, '),('));
      },
    };
    for (const [style, dump] of Object.entries(styles)) {
      const dir = stageProject(dumpSources, MODELS);
      mkdirSync(join(dir, 'dump'), { recursive: true });
      await dump(join(dir, 'dump/app.sql'));
      const text = readFileSync(join(dir, 'dump/app.sql'), 'utf8');
      expect(text, style).toContain('CREATE TABLE `coming_soon_items`');
      expect(text, style).not.toContain('INSERT INTO `coming_soon_items`');
      const r = await runKiln(dir, ['build']);
      expect(r.code, `${style}: ${r.stderr}`).toBe(0);
      expect(await relationNames(warehouse(dir), 'raw'), style).toEqual(RAW_TABLES);
      expect(await rowCounts(dir), style).toEqual({ app__audit_log: 3, app__coming_soon_items: 0, app__content: 3, app__reviews: 3, app__users: 2 });
      expect(await queryWarehouse(warehouse(dir), 'SELECT count() AS n FROM analytics.stg_users'), style).toEqual([{ n: 2 }]);
      expect((await columnsOf(dir, 'app__coming_soon_items')).map((c) => c.name), style).toEqual([
        'id', 'content_id', 'title', 'release_date', 'is_active', '_kiln_load_id', '_kiln_loaded_at',
      ]);
      expect(runResults(dir).get('source.staged.app.coming_soon_items')).toMatchObject({ status: 'success', rows_affected: 0 });
      const again = await runKiln(dir, ['stage']);
      expect(again.stdout, style).toContain('app.coming_soon_items: 1 file(s) (1 unchanged), 0 row(s) loaded, 0 rejected');
    }
  });

  it('dump: an empty table gets the columns it would have with rows, declared or not', async () => {
    await seed();
    const s = getServer();
    const declared = `${dumpSources}    tables: [{ name: coming_soon_items }]\n`;
    const empty = stageProject(declared);
    mkdirSync(join(empty, 'dump'), { recursive: true });
    await s.dump(join(empty, 'dump/app.sql'));
    const r = await runKiln(empty, ['stage']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('app.coming_soon_items: 1 file(s) (0 unchanged), 0 row(s) loaded, 0 rejected');

    await s.query(`INSERT INTO coming_soon_items VALUES (1, NULL, 'Soon', '2026-01-01', 1)`, s.database);
    try {
      const filled = stageProject(declared);
      mkdirSync(join(filled, 'dump'), { recursive: true });
      await s.dump(join(filled, 'dump/app.sql'));
      expect((await runKiln(filled, ['stage'])).code).toBe(0);
      const withRows = await columnsOf(filled, 'app__coming_soon_items');
      // MySQL's types, NULL and NOT NULL kept, as the table's CREATE TABLE says.
      expect(withRows.map((c) => c.type)).toEqual(['Int32', 'Nullable(Int32)', 'String', expect.stringMatching(/^Nullable\(Date/), 'Int8', 'String', "DateTime('UTC')"]);
      expect(await columnsOf(empty, 'app__coming_soon_items')).toEqual(withRows);
    } finally {
      await s.query(`DELETE FROM coming_soon_items`, s.database);
    }
  });

  it('watch: a rebuild after a model edit stages nothing (tables no model reads included)', async () => {
    await seed();
    const dir = stageProject(dumpSources, MODELS);
    mkdirSync(join(dir, 'dump'), { recursive: true });
    await getServer().dump(join(dir, 'dump/app.sql'));
    const watch = startKiln(dir, ['watch', '--debounce', '50']);
    try {
      await watch.waitFor(/Watching for changes/);
      expect(runResults(dir).get('source.staged.app.audit_log')?.status).toBe('success');
      const mark = watch.stdout().length;
      writeFiles(dir, { 'models/stg_users.sql': "SELECT id FROM {{ source('app', 'users') }}" });
      await watch.waitFor(/\[watch\] models\/stg_users\.sql changed → rebuilt stg_users/, { from: mark });
      expect([...runResults(dir).keys()]).toEqual(['model.staged.stg_users']);
    } finally {
      watch.child.kill('SIGINT');
      await watch.done;
    }
  });

  it('dump: a model reading a table the dump lacks is exit 2 naming the tables there', async () => {
    await seed();
    const dir = stageProject(dumpSources, { 'models/m.sql': "SELECT * FROM {{ source('app', 'reviewz') }}" });
    mkdirSync(join(dir, 'dump'), { recursive: true });
    await getServer().dump(join(dir, 'dump/app.sql'));
    const r = await runKiln(dir, ['build']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\.yml:2: source app: table 'reviewz' is not in the dump .*dump\/app\.sql/);
    expect(r.stderr).toContain("did you mean 'reviews'? tables there: audit_log, coming_soon_items, content, reviews, users");
  });
});
