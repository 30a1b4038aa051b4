import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allOutput, projectYml, removeProjects, runKiln, STACK_FRAME, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse, relationNames } from '../helpers/warehouse.js';

/** Contracts and ClickHouse column/table options through the real CLI on the embedded engine. */
afterAll(removeProjects);

const USERS_SQL = `SELECT concat('u', toString(number)) AS name, toUInt32(number) AS user_id,
  toFloat64(number) / 2 AS score, toDate('2030-01-01') AS joined
FROM numbers(5)`;

const USERS_YML = `models:
  - name: dim_users
    config:
      materialized: table
      contract: {enforced: true}
      order_by: user_id
      indexes:
        - {name: idx_name, definition: 'name TYPE bloom_filter GRANULARITY 2'}
        - {name: idx_score, expression: score, type: minmax, granularity: 1}
      projections: [{name: by_score, query: 'SELECT user_id, score ORDER BY score'}]
    columns:
      - name: user_id
        data_type: Nullable(UInt32)
        constraints: [{type: not_null}, {type: primary_key}]
      - name: name
        data_type: String
        codec: ZSTD(3)
      - name: score
        data_type: Float64
        constraints: [{type: check, expression: 'score >= 0'}]
      - name: joined
        data_type: Date
        ttl: joined + INTERVAL 100 YEAR
`;

describe('an enforced contract on a table, with codec, ttl, indexes, projections and a check', () => {
  let dir: string;
  let wh: string;
  const columns = (table: string) =>
    queryWarehouse<{ name: string; type: string }>(wh, `SELECT name, type FROM system.columns WHERE database = 'analytics' AND table = '${table}'`);
  const createSql = async (table: string) =>
    (await queryWarehouse<{ statement: string }>(wh, `SHOW CREATE TABLE analytics.${table}`))[0]!.statement;
  const leftovers = async () => (await relationNames(wh, 'analytics')).filter((n) => n.startsWith('__kiln_'));

  beforeAll(() => {
    dir = writeProject({ 'project.yml': projectYml('shop'), 'models/dim_users.sql': USERS_SQL, 'models/schema.yml': USERS_YML });
    wh = join(dir, '.kiln/dev');
  });

  it('builds the table with the contract\'s columns, order and types, and every option in its DDL', async () => {
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(allOutput(r)).toMatch(/constraint 'primary_key' on column 'user_id' of model 'dim_users' is not enforced by ClickHouse/);
    expect(await columns('dim_users')).toEqual([
      { name: 'user_id', type: 'UInt32' },
      { name: 'name', type: 'String' },
      { name: 'score', type: 'Float64' },
      { name: 'joined', type: 'Date' },
    ]);
    const ddl = await createSql('dim_users');
    expect(ddl).toMatch(/`name` String CODEC\(ZSTD\(3\)\)/);
    expect(ddl).toMatch(/`joined` Date TTL joined \+ (toIntervalYear\(100\)|INTERVAL 100 YEAR)/);
    expect(ddl).toMatch(/INDEX idx_name name TYPE bloom_filter GRANULARITY 2/);
    expect(ddl).toMatch(/INDEX idx_score score TYPE minmax GRANULARITY 1/);
    expect(ddl).toMatch(/PROJECTION by_score/);
    expect(ddl).toMatch(/CONSTRAINT score_check CHECK score >= 0/);
    expect(await queryWarehouse(wh, 'SELECT count() AS n, sum(user_id) AS s FROM analytics.dim_users')).toEqual([{ n: 5, s: 10 }]);
  });

  it('fails before the swap with a column-by-column diff when the SELECT differs, leaving the old table', async () => {
    writeFiles(dir, {
      'models/dim_users.sql': `SELECT concat('u', toString(number)) AS name, toInt64(number) AS user_id, toDate('2030-01-01') AS joined, 1 AS extra FROM numbers(3)`,
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(1);
    const out = allOutput(r);
    // It reads no declared input, so this is the check before the run (the build-time one is tested below).
    expect(out).toContain(
      "model 'dim_users' does not match its enforced contract (checked before the run, from the declared types of its inputs): 'user_id' is Int64 in the model's SELECT, the contract says UInt32; " +
        "'score' is missing from the model's SELECT (contract: Float64); 'extra' (UInt8) is in the model's SELECT but not in the contract",
    );
    expect(out).toMatch(/models\/dim_users\.sql/);
    expect(out).not.toMatch(STACK_FRAME);
    expect(await queryWarehouse(wh, 'SELECT count() AS n FROM analytics.dim_users')).toEqual([{ n: 5 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses rows a check constraint rejects, leaving the old table and no scratch tables', async () => {
    writeFiles(dir, { 'models/dim_users.sql': USERS_SQL.replace('toFloat64(number) / 2', 'toFloat64(number) - 2') });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toMatch(/score_check/);
    expect(await queryWarehouse(wh, 'SELECT count() AS n, min(score) AS m FROM analytics.dim_users')).toEqual([{ n: 5, m: 0 }]);
    expect(await leftovers()).toEqual([]);
  });

  it('a NULL in a not_null column is refused the same way', async () => {
    writeFiles(dir, { 'models/dim_users.sql': USERS_SQL.replace('toUInt32(number) AS user_id', 'CAST(if(number = 2, NULL, number) AS Nullable(UInt32)) AS user_id') });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain("'user_id' is Nullable(UInt32) in the model's SELECT, the contract says UInt32");
    expect(await leftovers()).toEqual([]);
  });
});

describe('an enforced contract on an incremental model', () => {
  let dir: string;
  let wh: string;
  const yml = (extra = '') => `models:
  - name: events
    config: {materialized: incremental, contract: {enforced: true}, order_by: id}
    columns:
      - {name: id, data_type: UInt64}
      - {name: kind, data_type: LowCardinality(String), codec: ZSTD}
${extra}`;
  beforeAll(() => {
    dir = writeProject({
      'project.yml': projectYml('ev'),
      'models/events.sql': `SELECT number AS id, CAST('click' AS LowCardinality(String)) AS kind FROM numbers(10)
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}`,
      'models/schema.yml': yml(),
    });
    wh = join(dir, '.kiln/dev');
  });

  it('builds, then appends while SELECT and table match the contract', async () => {
    expect((await runKiln(dir, ['run'])).code).toBe(0);
    writeFiles(dir, { 'models/events.sql': `SELECT number AS id, CAST('view' AS LowCardinality(String)) AS kind FROM numbers(15)
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}` });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(await queryWarehouse(wh, 'SELECT kind, count() AS n FROM analytics.events GROUP BY kind ORDER BY kind')).toEqual([
      { kind: 'click', n: 10 },
      { kind: 'view', n: 5 },
    ]);
  });

  it('a contract the existing table no longer matches is an error until --full-refresh', async () => {
    writeFiles(dir, {
      'models/schema.yml': yml('      - {name: score, data_type: Float32}\n'),
      'models/events.sql': `SELECT number AS id, CAST('x' AS LowCardinality(String)) AS kind, toFloat32(1) AS score FROM numbers(20)
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}`,
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain("the existing table analytics.events does not match the model's enforced contract: 'score' is missing from the table (contract: Float32)");
    expect(allOutput(r)).toMatch(/--full-refresh/);
    expect(await queryWarehouse(wh, 'SELECT count() AS n FROM analytics.events')).toEqual([{ n: 15 }]);
    const full = await runKiln(dir, ['run', '--full-refresh']);
    expect(full.code, allOutput(full)).toBe(0);
    expect(await queryWarehouse(wh, 'SELECT count() AS n, sum(score) AS s FROM analytics.events')).toEqual([{ n: 20, s: 20 }]);
  });
});

describe('column options without a contract, and bad contracts', () => {
  it('a table gets codec and ttl on the columns its SELECT returns, with their own types', async () => {
    const dir = writeProject({
      'project.yml': projectYml('opt'),
      'models/t.sql': "{{ config(materialized='table', ttl='d + INTERVAL 1000 YEAR') }}SELECT toDate('2030-01-01') AS d, number AS n FROM numbers(3)",
      'models/schema.yml': 'models:\n  - name: t\n    columns:\n      - {name: n, codec: "Delta, ZSTD"}\n',
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(0);
    const ddl = (await queryWarehouse<{ statement: string }>(join(dir, '.kiln/dev'), 'SHOW CREATE TABLE analytics.t'))[0]!.statement;
    expect(ddl).toMatch(/`n` UInt64 CODEC\(Delta\(8\), ZSTD/);
    expect(ddl).toMatch(/TTL d \+/);
  });

  it('a contracted column without data_type, an unknown constraint or a check without expression is exit 2 before anything runs', async () => {
    const cases: Array<[string, RegExp]> = [
      ['      - {name: a}\n', /models\/schema\.yml:2: model 'm' has an enforced contract but column 'a' has no data_type/],
      ['      - {name: a, data_type: UInt8, constraints: [{type: uniq}]}\n', /unknown constraint type 'uniq' on column 'a' of model 'm'/],
      ['      - {name: a, data_type: UInt8, constraints: [{type: check}]}\n', /check constraint on column 'a' of model 'm' has no expression/],
    ];
    for (const [column, message] of cases) {
      const dir = writeProject({
        'project.yml': projectYml('bad'),
        'models/m.sql': 'SELECT 1 AS a',
        'models/schema.yml': `models:\n  - name: m\n    config: {materialized: table, contract: {enforced: true}}\n    columns:\n${column}`,
      });
      const r = await runKiln(dir, ['run']);
      expect(r.code, allOutput(r)).toBe(2);
      expect(allOutput(r)).toMatch(message);
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
    }
  });

  it('a view checks its contract\'s names and types', async () => {
    const dir = writeProject({
      'project.yml': projectYml('v'),
      'models/v.sql': 'SELECT 1 AS a',
      'models/schema.yml': 'models:\n  - name: v\n    config: {contract: {enforced: true}}\n    columns:\n      - {name: a, data_type: String}\n',
    });
    const r = await runKiln(dir, ['run']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain("'a' is UInt8 in the model's SELECT, the contract says String");
    expect(await relationNames(join(dir, '.kiln/dev'), 'analytics')).toEqual([]);
  });
});

describe('a contract checked before the run, from the declared types of its inputs', () => {
  const files = (dimCode: string) => ({
    'project.yml': projectYml('pre'),
    'seeds/countries.csv': 'code,name\nFR,France\n',
    'seeds/seeds.yml': 'seeds:\n  - name: countries\n    config: {column_types: {code: String, name: String}}\n',
    'models/stg.sql': "{{ config(materialized='table') }}SELECT 'FR' AS code, toUInt32(3) AS n",
    'models/dim.sql': "{{ config(materialized='table') }}SELECT s.code AS code, c.name AS name, s.n AS n FROM {{ ref('stg') }} AS s JOIN {{ ref('countries') }} AS c ON c.code = s.code",
    'models/schema.yml': `models:
  - name: stg
    config: {contract: {enforced: true}}
    columns: [{name: code, data_type: String}, {name: n, data_type: UInt32}]
  - name: dim
    config: {contract: {enforced: true}}
    columns: [{name: code, data_type: ${dimCode}}, {name: name, data_type: String}, {name: n, data_type: UInt32}]
`,
  });

  it('a mismatch stops the build before anything is built, seeds and upstream models included', async () => {
    const dir = writeProject(files('UInt8'));
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain(
      "models/dim.sql: model 'dim' does not match its enforced contract (checked before the run, from the declared types of its inputs): 'code' is String in the model's SELECT, the contract says UInt8",
    );
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    expect(await relationNames(join(dir, '.kiln/dev'), 'analytics')).toEqual([]);
  });

  it('with an input of undeclared types the check happens at build, before the swap, and the old table stays', async () => {
    const dir = writeProject({ ...files('String'), 'seeds/seeds.yml': 'seeds:\n  - name: countries\n' });
    expect((await runKiln(dir, ['build'])).code).toBe(0);
    writeFiles(dir, { 'models/dim.sql': "{{ config(materialized='table') }}SELECT toUInt8(1) AS code, c.name AS name FROM {{ ref('countries') }} AS c" });
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain(
      "models/dim.sql: the model's columns do not match its enforced contract: 'code' is UInt8 in the model's SELECT, the contract says String; 'n' is missing from the model's SELECT (contract: UInt32)",
    );
    expect(allOutput(r)).toMatch(/ERROR +table model analytics\.dim/);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT code, name, n FROM analytics.dim')).toEqual([{ code: 'FR', name: 'France', n: 3 }]);
    expect((await relationNames(join(dir, '.kiln/dev'), 'analytics')).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
  });

  it('a matching contract builds', async () => {
    const dir = writeProject(files('String'));
    const r = await runKiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(0);
    expect(await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT code, name, n FROM analytics.dim')).toEqual([{ code: 'FR', name: 'France', n: 3 }]);
  });
});
