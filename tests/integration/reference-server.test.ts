import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { describeWithMariaDb, type MariaDbServer } from '../harness/mariadb.js';
import { REPO_ROOT, removeProjects, runKiln, runResults, writeProject, type KilnResult } from '../helpers/kiln-cli.js';
import { DAILY_METRICS, notPassed, referenceProject } from '../helpers/reference-project.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Every supported server is really supported (issue 16): the reference project in the
 * repository root, built as the README's "Production" steps say, against Debian's
 * clickhouse-server 18.16 (the oldest server kiln supports) with the app database live in
 * MariaDB, passes every test and holds the rows the embedded build holds. The init scaffold
 * builds there too, and a model with a construct 18.16 lacks gets an error naming it.
 */

afterAll(removeProjects);

/** The environment the README's Production steps set. */
function productionEnv(ch: ClickHouseServer, my: MariaDbServer): Record<string, string> {
  return {
    CLICKHOUSE_URL: ch.url,
    CLICKHOUSE_USER: ch.username,
    CLICKHOUSE_PASSWORD: ch.password,
    MYSQL_HOST: my.host,
    MYSQL_PORT: String(my.port),
    MYSQL_USER: my.user,
    MYSQL_PASSWORD: my.password,
    MYSQL_DATABASE: my.database,
  };
}

async function serverQuery<T>(ch: ClickHouseServer, sql: string): Promise<T[]> {
  const response = await fetch(`${ch.url}/?default_format=JSONEachRow`, {
    method: 'POST',
    body: sql,
    headers: { 'X-ClickHouse-User': ch.username, 'X-ClickHouse-Key': ch.password },
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${sql}: ${text}`);
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}

const failure = (r: KilnResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

describeWithClickHouse('the reference project on ClickHouse 18.16', (getClickHouse) => {
  describeWithMariaDb('with the app database live in MariaDB', (getMariaDb) => {
    it('builds with --target prod, passes every test and holds the embedded build\'s rows', async () => {
      const ch = getClickHouse();
      const my = getMariaDb();
      // The app database as production has it: the committed dump loaded into MariaDB.
      await my.query(`SOURCE ${join(REPO_ROOT, 'data/mysql/app.sql')}`, my.database);
      const env = productionEnv(ch, my);

      const server = referenceProject();
      const build = await runKiln(server, ['build', '--target', 'prod'], { env });
      expect(notPassed(server)).toEqual([]);
      expect(build.code, failure(build)).toBe(0);
      expect(build.stdout).toMatch(/^Finished \d+ nodes in \d+\.\d\ds: \d+ ok$/m);
      // the planted defects are found exactly (the ground-truth test passed), on the live database
      expect(runResults(server).get('test.movies.assert_sample_matches_ground_truth')?.status).toBe('pass');

      // The same project from the same live database on the embedded engine.
      const embedded = referenceProject();
      const local = await runKiln(embedded, ['build'], { env });
      expect(notPassed(embedded)).toEqual([]);
      expect(local.code, failure(local)).toBe(0);

      const serverRelations = await serverQuery<{ name: string }>(ch, "SELECT name FROM system.tables WHERE database = 'analytics' ORDER BY name");
      const embeddedRelations = await queryWarehouse<{ name: string }>(join(embedded, '.kiln/dev'), "SELECT name FROM system.tables WHERE database = 'analytics' ORDER BY name");
      expect(serverRelations.map((r) => r.name)).toEqual(embeddedRelations.map((r) => r.name));
      expect(serverRelations.map((r) => r.name)).toEqual(expect.arrayContaining(['dim_content', 'fact_reviews', 'fact_events', 'dash_top_content']));

      // Row counts of every relation, and the cleaning summary and dashboard numbers row for row.
      // (fact_content_metrics_daily and its views hold -State rows per insert until ClickHouse
      // merges them, so its rows are compared finalised, through content_metrics_daily, below.)
      const counts = serverRelations.filter((r) => !r.name.startsWith('fact_content_metrics_daily')).map((r) => `SELECT '${r.name}' AS name, toString(count()) AS n FROM analytics.\`${r.name}\``).join(' UNION ALL ');
      const byName = (rows: { name: string; n: string }[]) => Object.fromEntries(rows.map((r) => [r.name, r.n]));
      const serverCounts = byName(await serverQuery(ch, counts));
      expect(byName(await queryWarehouse(join(embedded, '.kiln/dev'), counts))).toEqual(serverCounts);
      expect(serverCounts).toMatchObject({ fact_reviews: '354', fact_events: '687', dim_content: '60', dim_user: '80' });
      for (const sql of [
        'SELECT source_table, action, reason, toString(rows) AS rows FROM analytics.stg_rejects_summary ORDER BY source_table, action, reason',
        'SELECT metric, label, toString(value) AS value FROM analytics.dash_overview ORDER BY metric, label',
        'SELECT toString(window_days) AS window_days, toString(rank) AS rank, toString(content_id) AS content_id, toString(avg_rating) AS avg_rating FROM analytics.dash_top_content ORDER BY window_days, rank',
      ]) {
        expect(await queryWarehouse(join(embedded, '.kiln/dev'), sql), sql).toEqual(await serverQuery(ch, sql));
      }
      expect(await queryWarehouse(join(embedded, '.kiln/dev'), DAILY_METRICS)).toEqual(await serverQuery(ch, DAILY_METRICS));

      // The daily metrics are fed by materialized views (issue 15). New reviews in the live
      // database, a double submission among them, reach them with a stage of the reviews alone
      // (rows past the highest staged id are appended: through the view, no rebuild) ...
      await my.query(
        "INSERT INTO reviews (id, content_id, user_id, rating, created_at, updated_at) VALUES (421, 14, 42, 9.00, '2025-11-08 09:00:00', '2025-11-08 09:00:00'), (422, 14, 42, 2.00, '2025-11-08 09:00:00', '2025-11-08 09:00:00'), (423, 3, 43, 7.25, '2025-11-08 10:00:00', '2025-11-08 10:00:00')",
        my.database,
      );
      const reviews = await runKiln(server, ['stage', '--target', 'prod', '--select', 'source:app.reviews'], { env });
      expect(reviews.code, failure(reviews)).toBe(0);
      expect(reviews.stdout).not.toContain('is rebuilt after the load');
      expect(runResults(server).get('model.movies.fact_content_metrics_daily')?.message).toBe('materialized view analytics.fact_content_metrics_daily: its views saw every load');
      const day = (contentId: number) =>
        serverQuery(ch, `SELECT concat(toString(avg_rating), ' ', toString(reviews_count)) AS row FROM analytics.content_metrics_daily WHERE content_id = ${contentId} AND date = '2025-11-08'`);
      expect(await day(14)).toEqual([{ row: '9 1' }]);
      expect(await day(3)).toEqual([{ row: '7.25 1' }]);
      const maintained = await serverQuery(ch, DAILY_METRICS);
      const rebuild = await runKiln(server, ['run', '--target', 'prod', '--select', 'fact_content_metrics_daily', '--full-refresh'], { env });
      expect(rebuild.code, failure(rebuild)).toBe(0);
      expect(await serverQuery(ch, DAILY_METRICS)).toEqual(maintained);
      // ... and a whole stage (the live tables without incremental_key are swapped in, which fires
      // no view) rebuilds the model: the same numbers, nothing counted twice.
      const whole = await runKiln(server, ['stage', '--target', 'prod'], { env });
      expect(whole.code, failure(whole)).toBe(0);
      expect(whole.stdout).toContain('fact_content_metrics_daily is rebuilt after the load');
      expect(await serverQuery(ch, DAILY_METRICS)).toEqual(maintained);
    });

    it('builds the kiln init scaffold', async () => {
      const ch = getClickHouse();
      const parent = writeProject({});
      expect((await runKiln(null, ['init', 'shop'], { cwd: parent })).code).toBe(0);
      const dir = join(parent, 'shop');
      const build = await runKiln(dir, ['build', '--target', 'prod'], { env: productionEnv(ch, getMariaDb()) });
      expect(build.code, failure(build)).toBe(0);
      expect(await serverQuery(ch, 'SELECT country_code, country_name FROM analytics.dim_country ORDER BY country_code')).toEqual([
        { country_code: 'DE', country_name: 'Germany' },
        { country_code: 'FR', country_name: 'France' },
        { country_code: 'JP', country_name: 'Japan' },
      ]);
    });

    it('names a construct the server lacks, the release that has it and what to write instead', async () => {
      const ch = getClickHouse();
      const dir = writeProject({
        'project.yml': `name: old_server
target: prod
targets:
  prod: { engine: clickhouse, url: "{{ env_var('CLICKHOUSE_URL') }}", username: "{{ env_var('CLICKHOUSE_USER') }}", password: "{{ env_var('CLICKHOUSE_PASSWORD') }}", database: old_server, raw_database: old_server_raw }
`,
        'models/top_numbers.sql': 'WITH firsts AS (\n    SELECT number FROM system.numbers LIMIT 10\n)\nSELECT number FROM firsts ORDER BY number DESC LIMIT 5\n',
      });
      // Found by validation before anything runs (exit 2), with the construct and the release that has it.
      const run = await runKiln(dir, ['run'], { env: { CLICKHOUSE_URL: ch.url, CLICKHOUSE_USER: ch.username, CLICKHOUSE_PASSWORD: ch.password } });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('models/top_numbers.sql:1');
      expect(run.stderr).toContain('this server lacks `WITH name AS (SELECT …)` (a common table expression), which ClickHouse has since 20.10: Syntax error');
      expect(run.stderr).toMatch(/^ +hint: write it so every supported server runs it: a subquery in FROM: `FROM \(SELECT …\) AS name`/m);
    });
  });
});
