import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { describeWithMariaDb } from '../harness/mariadb.js';
import { REPO_ROOT, removeProjects } from '../helpers/kiln-cli.js';
import { runStage, stageProject } from '../helpers/stage-project.js';
import { queryTarget } from '../helpers/warehouse.js';

/** Whole-database MySQL sources into Debian's ClickHouse 18.16 (MySQL listed and dumps read by the local engine). */

afterAll(removeProjects);

const TARGET = `dev: { engine: clickhouse, url: "{{ env_var('CH_URL') }}", username: "{{ env_var('CH_USER') }}", password: "{{ env_var('CH_PASSWORD') }}", database: analytics, raw_database: raw_whole }`;
const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'tests/fixtures/stage', name), 'utf8');

describeWithClickHouse('whole-database MySQL sources into a ClickHouse 18.16 server', (getClickHouse) => {
  describeWithMariaDb('with MariaDB', (getMariaDb) => {
    it('stages every table of the live database and of its dump, an empty table included', async () => {
      const my = getMariaDb();
      await my.query(
        fixture('app-schema.sql') + fixture('app-data.sql') + 'CREATE TABLE coming_soon_items (id INT PRIMARY KEY, title VARCHAR(200) NOT NULL, release_date DATE NULL);',
        my.database,
      );
      const ch = getClickHouse();
      const env = { CH_URL: ch.url, CH_USER: ch.username, CH_PASSWORD: ch.password, MYSQL_HOST: my.host, MYSQL_PORT: String(my.port), MYSQL_USER: my.user, MYSQL_PASSWORD: my.password };
      const dir = stageProject(
        `sources:
  - name: dumped
    loader: mysql
    dump: dump/app.sql
  - name: live
    loader: mysql
    connection: { host: "{{ env_var('MYSQL_HOST') }}", port: "{{ env_var('MYSQL_PORT') }}", database: app, user: "{{ env_var('MYSQL_USER') }}", password: "{{ env_var('MYSQL_PASSWORD') }}" }
`,
        {},
        TARGET,
      );
      mkdirSync(join(dir, 'dump'));
      await my.dump(join(dir, 'dump/app.sql'));
      const { results } = await runStage(dir, { env });
      expect(results.map((r) => [r.unique_id, r.status, r.rows_affected]).sort()).toEqual([
        ['source.staged.dumped.coming_soon_items', 'success', 0],
        ['source.staged.dumped.content', 'success', 3],
        ['source.staged.dumped.reviews', 'success', 3],
        ['source.staged.dumped.users', 'success', 2],
        ['source.staged.live.coming_soon_items', 'success', 0],
        ['source.staged.live.content', 'success', 3],
        ['source.staged.live.reviews', 'success', 3],
        ['source.staged.live.users', 'success', 2],
      ]);
      const columns = (table: string) =>
        queryTarget<{ name: string }>(dir, `SELECT name FROM system.columns WHERE database = 'raw_whole' AND table = '${table}'`, { env }).then((r) => r.map((c) => c.name));
      expect(await columns('dumped__coming_soon_items')).toEqual(['id', 'title', 'release_date', '_kiln_load_id', '_kiln_loaded_at']);
      expect(await queryTarget(dir, 'SELECT count() AS n FROM raw_whole.dumped__coming_soon_items', { env })).toEqual([{ n: '0' }]);
    });
  });
});
