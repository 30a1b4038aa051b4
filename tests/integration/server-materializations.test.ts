import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { serverProject, serverSession } from '../helpers/server-target.js';
import { freePort } from '../harness/free-port.js';
import { allOutput, readJson, removeProjects, runKiln, runResults, STACK_FRAME, writeFiles } from '../helpers/kiln-cli.js';

/**
 * The materialization suite through the real CLI against Debian's clickhouse-server (18.16): no
 * EXCHANGE TABLES (rename pair), no CREATE OR REPLACE VIEW, no CTEs (ephemerals as subqueries).
 */
afterAll(removeProjects);

describeWithClickHouse('materializations on clickhouse-server', (getServer) => {
  const { kiln, rows, command, server: getHarness, env: harnessEnv } = serverSession(getServer);
  let server: ClickHouseServer;
  let env: Record<string, string>;
  beforeAll(() => {
    server = getHarness();
    env = harnessEnv();
  });
  const tables = async (db: string) =>
    (await rows<{ name: string; engine: string }>(`SELECT name, engine FROM system.tables WHERE database = '${db}' ORDER BY name`)).map((r) => `${r.name}:${r.engine}`);
  const leftovers = async (db: string) => (await tables(db)).filter((t) => t.startsWith('__kiln_'));

  it('is an old server without the newer capabilities', () => {
    expect(server.version).toMatch(/^18\.16\./);
  });

  describe('build of view, table, seed and ephemeral', () => {
    const db = 'm1';
    let dir: string;
    beforeAll(async () => {
      dir = serverProject(db, {
        'seeds/genres.csv': 'genre_id,genre\n1,drama\n2,comedy\n',
        // 18.16 joins only columns of one type
        'seeds/seeds.yml': 'seeds:\n  - name: genres\n    config: { column_types: { genre_id: UInt32 } }\n',
        'models/staging/stg_reviews.sql': 'SELECT toUInt32(number + 1) AS review_id, toUInt32(number % 2 + 1) AS genre_id, toFloat64(number) AS rating FROM system.numbers LIMIT 6',
        'models/staging/good_reviews.sql': "{{ config(materialized='ephemeral') }}SELECT * FROM {{ ref('stg_reviews') }} WHERE rating >= 2",
        'models/marts/fct_reviews.sql': `{{ config(materialized='table', engine='ReplacingMergeTree()', order_by=['genre_id', 'review_id'], partition_by='genre_id', primary_key='genre_id', settings={'index_granularity': 2048}) }}
SELECT r.review_id AS review_id, r.genre_id AS genre_id, g.genre AS genre, r.rating AS rating
FROM {{ ref('good_reviews') }} AS r
ANY LEFT JOIN {{ ref('genres') }} AS g USING genre_id`,
      });
    });

    it('builds every node with exit 0', async () => {
      const r = await kiln(dir, ['build']);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toMatch(/OK +seed file m1\.genres \.+ \[2 rows, /);
      expect(r.stdout).toMatch(/OK +view model m1\.stg_reviews/);
      expect(r.stdout).toMatch(/OK +table model m1\.fct_reviews \.+ \[4 rows, /);
      expect(r.stdout).toMatch(/Finished 3 nodes in \d+\.\d\ds: 3 ok$/m);
      expect([...runResults(dir).values()].map((x) => x.status)).toEqual(['success', 'success', 'success']);
    });

    it('created the relations with their configs; the ephemeral one was inlined, never created', async () => {
      expect(await tables(db)).toEqual(['fct_reviews:ReplacingMergeTree', 'genres:MergeTree', 'stg_reviews:View']);
      const [t] = await rows<Record<string, string>>(`SELECT sorting_key, partition_key, primary_key, engine_full FROM system.tables WHERE database = '${db}' AND name = 'fct_reviews'`);
      expect(t).toMatchObject({ sorting_key: 'genre_id, review_id', partition_key: 'genre_id', primary_key: 'genre_id' });
      expect(t!.engine_full).toContain('index_granularity = 2048');
      expect(await rows(`SELECT review_id, genre FROM ${db}.fct_reviews ORDER BY review_id`)).toEqual([
        { review_id: 3, genre: 'drama' },
        { review_id: 4, genre: 'comedy' },
        { review_id: 5, genre: 'drama' },
        { review_id: 6, genre: 'comedy' },
      ]);
      // the manifest keeps the CTE form; 18.16 got subqueries
      expect(readJson(dir, 'target/manifest.json').nodes['model.srv.fct_reviews'].compiled_code).toContain('WITH `__kiln_cte__good_reviews` AS (');
    });

    it('rebuilds a view and a table in place (rename pair), leaving no temporaries', async () => {
      writeFiles(dir, { 'models/staging/stg_reviews.sql': 'SELECT toUInt32(number + 1) AS review_id, toUInt32(1) AS genre_id, toFloat64(9) AS rating FROM system.numbers LIMIT 3' });
      const r = await kiln(dir, ['run']);
      expect(r.code).toBe(0);
      expect(await rows(`SELECT review_id, genre FROM ${db}.fct_reviews ORDER BY review_id`)).toEqual([
        { review_id: 1, genre: 'drama' },
        { review_id: 2, genre: 'drama' },
        { review_id: 3, genre: 'drama' },
      ]);
      expect(await leftovers(db)).toEqual([]);
    });
  });

  describe('atomic swap', () => {
    const db = 'm2';
    const slowTable = (rowsCount: number, nap: number) =>
      `{{ config(materialized='table', order_by='id') }}SELECT number AS id, sleep(${nap}) AS s FROM system.numbers LIMIT ${rowsCount} SETTINGS max_block_size = 1`;

    it('readers never see a missing or half-built table while it is rebuilt', async () => {
      const dir = serverProject(db, { 'models/t.sql': slowTable(3, 0), 'models/reader.sql': "SELECT count() AS n FROM {{ ref('t') }}" });
      const first = await kiln(dir, ['run']);
      expect(first.code, allOutput(first)).toBe(0);

      writeFiles(dir, { 'models/t.sql': slowTable(8, 0.25) });
      let done = false;
      const seen = new Set<number>();
      const errors: string[] = [];
      const polling = (async () => {
        while (!done) {
          try {
            const [row] = await rows<{ n: string }>(`SELECT count() AS n FROM ${db}.t`);
            seen.add(Number(row!.n));
            const [viaView] = await rows<{ n: string }>(`SELECT n FROM ${db}.reader`);
            seen.add(Number(viaView!.n));
          } catch (err) {
            errors.push((err as Error).message);
          }
        }
      })();
      const r = await kiln(dir, ['run', '--select', 't']);
      done = true;
      await polling;
      expect(r.code).toBe(0);
      expect(errors).toEqual([]);
      // only whole tables: the old 3 rows or the new 8, never a partial count
      expect([...seen].every((n) => n === 3 || n === 8)).toBe(true);
      expect(seen.has(3)).toBe(true);
      expect(await rows(`SELECT count() AS n FROM ${db}.t`)).toEqual([{ n: '8' }]);
      expect(await leftovers(db)).toEqual([]);
    });

    it('a failed rebuild leaves the old table with its rows and no temporaries (18.16 CTAS is not atomic)', async () => {
      const dir = serverProject(`${db}_fail`, { 'models/t.sql': slowTable(3, 0), 'models/after.sql': "SELECT * FROM {{ ref('t') }}" });
      expect((await kiln(dir, ['run'])).code).toBe(0);
      writeFiles(dir, {
        'models/t.sql': "{{ config(materialized='table') }}\nSELECT number AS id, throwIf(number = 20000) AS x FROM system.numbers LIMIT 100000 SETTINGS max_block_size = 1000",
      });
      const r = await kiln(dir, ['run']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^ {6}models\/t\.sql: Value passed to 'throwIf' function is non zero/m);
      expect(r.stdout).toMatch(/^ {8}compiled SQL: target\/compiled\/models\/t\.sql$/m);
      expect(r.stdout).toMatch(/SKIP +view model m2_fail\.after/);
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
      expect(allOutput(r)).not.toContain(server.password);
      expect(await rows(`SELECT id FROM ${db}_fail.t ORDER BY id`)).toEqual([{ id: '0' }, { id: '1' }, { id: '2' }]);
      expect(await leftovers(`${db}_fail`)).toEqual([]);
    });

    it('temporaries left by a killed run are dropped by the next run', async () => {
      const d = `${db}_left`;
      const dir = serverProject(d, { 'models/t.sql': slowTable(2, 0), 'models/v.sql': "SELECT * FROM {{ ref('t') }}" });
      expect((await kiln(dir, ['run'])).code).toBe(0);
      await command(`CREATE TABLE ${d}.__kiln_tmp__t__deadbeef ENGINE = Log AS SELECT 1 AS x`);
      await command(`CREATE TABLE ${d}.__kiln_old__t__deadbeef ENGINE = Log AS SELECT 1 AS x`);
      await command(`CREATE VIEW ${d}.__kiln_tmp__v__deadbeef AS SELECT 1 AS x`);
      expect(await leftovers(d)).toHaveLength(3);
      expect((await kiln(dir, ['run'])).code).toBe(0);
      expect(await leftovers(d)).toEqual([]);
      expect(await tables(d)).toEqual(['t:MergeTree', 'v:View']);
    });
  });

  describe('hooks, aliases and errors', () => {
    const db = 'm3';

    it('runs pre and post hooks around the model, with {{ this }} and a custom database/alias', async () => {
      const dir = serverProject(db, {
        'models/audited.sql': `{{ config(materialized='table', database='m3_other', alias='audited_t',
  pre_hook="CREATE TABLE IF NOT EXISTS m3_other.audit (what String, n UInt64) ENGINE = Log",
  post_hook="INSERT INTO m3_other.audit SELECT 'post', count() FROM {{ this }}") }}
SELECT number AS id FROM system.numbers LIMIT 4`,
      });
      const r = await kiln(dir, ['run']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/OK +table model m3_other\.audited_t \.+ \[4 rows, /);
      expect(await rows('SELECT what, n FROM m3_other.audit')).toEqual([{ what: 'post', n: '4' }]);
    });

    it('SQL the server rejects: exit 1 with the model file, its message and the compiled SQL path', async () => {
      const dir = serverProject(db, {
        'models/ok.sql': 'SELECT 1 AS x',
        // a syntax error on 18.16 (no `TRIM(BOTH … FROM …)` there)
        'models/with_trim.sql': "{{ config(materialized='table') }}SELECT trim(BOTH ' ' FROM ' x ') AS d",
      });
      // Validation would find it before anything runs; this is what a run reports when the server rejects SQL.
      const r = await kiln(dir, ['run', '--no-validate']);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/ERROR +table model m3\.with_trim/);
      expect(r.stdout).toMatch(/^ {6}models\/with_trim\.sql(:\d+)*: .*Syntax error: .*$/m);
      expect(r.stdout).toMatch(/^ {8}compiled SQL: target\/compiled\/models\/with_trim\.sql$/m);
      expect(r.stdout).toMatch(/OK +view model m3\.ok/);
      expect(readFileSync(join(dir, 'target/compiled/models/with_trim.sql'), 'utf8')).toBe("SELECT trim(BOTH ' ' FROM ' x ') AS d");
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
      expect(await leftovers(db)).toEqual([]);
    });

    it('a wrong password is an invalid invocation (exit 2) that never prints the password', async () => {
      const dir = serverProject(db, { 'models/ok.sql': 'SELECT 1 AS x' });
      const wrong = `wrong-${server.password}`;
      const r = await runKiln(dir, ['run'], { env: { ...env, KILN_TEST_CH_PASSWORD: wrong } });
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`error: target 'ch': ClickHouse at ${server.url} rejected user '${server.username}': wrong user or password`);
      expect(allOutput(r)).not.toContain(wrong);
      expect(allOutput(r)).not.toContain(server.password);
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
    });

    it('an unreachable server is exit 2 naming the target and the URL', async () => {
      const dir = serverProject(db, { 'models/ok.sql': 'SELECT 1 AS x' });
      const url = `http://127.0.0.1:${await freePort()}`; // nothing listens there
      const r = await runKiln(dir, ['run'], { env: { ...env, KILN_TEST_CH_URL: url } });
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`error: target 'ch': cannot reach ClickHouse at ${url}: ECONNREFUSED`);
      expect(allOutput(r)).not.toContain(server.password);
    });
  });
});
