import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capabilitiesFor, type Capabilities } from '../../src/adapters/capabilities.js';
import { describeWithClickHouse, type ClickHouseServer } from '../harness/clickhouse-server.js';
import { serverProject, serverSession } from '../helpers/server-target.js';
import { allOutput, removeProjects, STACK_FRAME, writeFiles, type ProjectFiles } from '../helpers/kiln-cli.js';

/**
 * Contracts and table options against a real clickhouse-server (Debian's 18.16): a contract of
 * names and types works there; codec, TTL, skipping indexes, projections and CHECK constraints
 * are refused before anything runs, naming the version that has them. Where the server has an
 * option, the test that builds it runs; otherwise it is skipped with the reason.
 */
afterAll(removeProjects);

const CONTRACT_YML = `models:
  - name: dim_users
    config: {materialized: table, contract: {enforced: true}, order_by: user_id}
    columns:
      - {name: user_id, data_type: Nullable(UInt32), constraints: [{type: not_null}, {type: unique}]}
      - {name: name, data_type: String}
`;

describeWithClickHouse('contracts and table options on clickhouse-server', (getServer) => {
  const { kiln, rows, server: getHarness } = serverSession(getServer);
  let server: ClickHouseServer;
  let caps: Capabilities;
  beforeAll(() => {
    server = getHarness();
    caps = capabilitiesFor(server.version);
  });
  const tableNames = async (db: string) => (await rows<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`)).map((r) => r.name);

  describe('an enforced contract of names and types', () => {
    const db = 'ct1';
    let dir: string;
    beforeAll(() => {
      dir = serverProject(db, {
        'models/dim_users.sql': "SELECT concat('u', toString(number)) AS name, toUInt32(number) AS user_id FROM system.numbers LIMIT 4",
        'models/schema.yml': CONTRACT_YML,
      });
    });

    it('builds the table in the contract\'s column order with not_null columns non-Nullable', async () => {
      const r = await kiln(dir, ['run']);
      expect(r.code, allOutput(r)).toBe(0);
      expect(allOutput(r)).toMatch(/constraint 'unique' on column 'user_id' of model 'dim_users' is not enforced by ClickHouse/);
      expect(await rows(`SELECT name, type FROM system.columns WHERE database = '${db}' AND table = 'dim_users'`)).toEqual([
        { name: 'user_id', type: 'UInt32' },
        { name: 'name', type: 'String' },
      ]);
      expect(await rows(`SELECT count() AS n FROM ${db}.dim_users`)).toEqual([{ n: '4' }]);
    });

    it('a SELECT that breaks the contract fails before the swap: exit 1, the diff, the old table, no scratch tables', async () => {
      writeFiles(dir, { 'models/dim_users.sql': "SELECT toString(number) AS user_id FROM system.numbers LIMIT 2" });
      const r = await kiln(dir, ['run']);
      expect(r.code, allOutput(r)).toBe(1);
      expect(allOutput(r)).toContain(
        "model 'dim_users' does not match its enforced contract (checked before the run, from the declared types of its inputs): 'user_id' is String in the model's SELECT, the contract says UInt32; 'name' is missing from the model's SELECT (contract: String)",
      );
      expect(allOutput(r)).not.toMatch(STACK_FRAME);
      expect(await rows(`SELECT count() AS n FROM ${db}.dim_users`)).toEqual([{ n: '4' }]);
      expect(await tableNames(db)).toEqual(['dim_users']);
    });
  });

  describe('an enforced contract on an incremental model', () => {
    const db = 'ct2';
    const model = (n: number, extra = '') => `SELECT * FROM (SELECT number AS id, toString(number) AS label${extra} FROM system.numbers LIMIT ${n})
{% if is_incremental() %}WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}`;
    const yml = (extra = '') => `models:
  - name: ev
    config: {materialized: incremental, contract: {enforced: true}, order_by: id}
    columns:
      - {name: id, data_type: UInt64}
      - {name: label, data_type: String}
${extra}`;
    let dir: string;
    beforeAll(() => {
      dir = serverProject(db, { 'models/ev.sql': model(5), 'models/schema.yml': yml() });
    });

    it('appends while the SELECT and the table match; a changed contract needs --full-refresh', async () => {
      const first = await kiln(dir, ['run']);
      expect(first.code, allOutput(first)).toBe(0);
      writeFiles(dir, { 'models/ev.sql': model(8) });
      const second = await kiln(dir, ['run']);
      expect(second.code, allOutput(second)).toBe(0);
      expect(await rows(`SELECT count() AS n FROM ${db}.ev`)).toEqual([{ n: '8' }]);
      writeFiles(dir, { 'models/ev.sql': model(9, ', toUInt8(1) AS flag'), 'models/schema.yml': yml('      - {name: flag, data_type: UInt8}\n') });
      const r = await kiln(dir, ['run']);
      expect(r.code, allOutput(r)).toBe(1);
      expect(allOutput(r)).toContain(`the existing table ${db}.ev does not match the model's enforced contract: 'flag' is missing from the table (contract: UInt8)`);
      expect(await rows(`SELECT count() AS n FROM ${db}.ev`)).toEqual([{ n: '8' }]);
      expect(await tableNames(db)).toEqual(['ev']);
      const full = await kiln(dir, ['run', '--full-refresh']);
      expect(full.code, allOutput(full)).toBe(0);
      expect(await rows(`SELECT count() AS n, sum(flag) AS f FROM ${db}.ev`)).toEqual([{ n: '9', f: '9' }]);
    });
  });

  it('a contract is checked before the run from its inputs\' declared types: a mismatch builds nothing', async () => {
    const db = 'ct3';
    const files = (nType: string): ProjectFiles => ({
      'seeds/countries.csv': 'code,name\nFR,France\n',
      'seeds/seeds.yml': 'seeds:\n  - name: countries\n    config: {column_types: {code: String, name: String}}\n',
      'models/stg.sql': "{{ config(materialized='table') }}SELECT 'FR' AS code, toUInt32(3) AS n",
      'models/dim.sql': "{{ config(materialized='table') }}SELECT s.code AS code, c.name AS name, s.n AS n FROM {{ ref('stg') }} AS s ANY INNER JOIN {{ ref('countries') }} AS c USING code",
      'models/schema.yml': `models:
  - name: stg
    config: {contract: {enforced: true}}
    columns: [{name: code, data_type: String}, {name: n, data_type: UInt32}]
  - name: dim
    config: {contract: {enforced: true}}
    columns: [{name: code, data_type: String}, {name: name, data_type: String}, {name: n, data_type: ${nType}}]
`,
    });
    const dir = serverProject(db, files('Int64'));
    const r = await kiln(dir, ['build']);
    expect(r.code, allOutput(r)).toBe(1);
    expect(allOutput(r)).toContain("model 'dim' does not match its enforced contract (checked before the run, from the declared types of its inputs): 'n' is UInt32 in the model's SELECT, the contract says Int64");
    expect(await tableNames(db)).toEqual([]);
    writeFiles(dir, files('UInt32'));
    const ok = await kiln(dir, ['build']);
    expect(ok.code, allOutput(ok)).toBe(0);
    expect(await rows(`SELECT code, name, n FROM ${db}.dim`)).toEqual([{ code: 'FR', name: 'France', n: 3 }]);
  });

  describe('options the server may lack', () => {
    const OPTIONS: ReadonlyArray<{ what: string; flag: keyof Capabilities; files: ProjectFiles }> = [
      {
        what: 'column codec',
        flag: 'columnCodecs',
        files: { 'models/schema.yml': 'models:\n  - name: t\n    columns:\n      - {name: n, codec: "Delta, ZSTD"}\n' },
      },
      { what: 'ttl', flag: 'ttl', files: { 'models/t.sql': "{{ config(materialized='table', ttl='d + INTERVAL 1000 YEAR') }}SELECT toDate('2030-01-01') AS d, number AS n FROM system.numbers LIMIT 3" } },
      {
        what: 'indexes (data-skipping)',
        flag: 'skippingIndexes',
        files: { 'models/t.sql': "{{ config(materialized='table', indexes=[{'name': 'i', 'definition': 'n TYPE minmax GRANULARITY 1'}]) }}SELECT toDate('2030-01-01') AS d, number AS n FROM system.numbers LIMIT 3" },
      },
      {
        what: 'projections',
        flag: 'projections',
        files: { 'models/t.sql': "{{ config(materialized='table', projections=[{'name': 'p', 'query': 'SELECT n ORDER BY n'}]) }}SELECT toDate('2030-01-01') AS d, number AS n FROM system.numbers LIMIT 3" },
      },
      {
        what: 'check constraints',
        flag: 'checkConstraints',
        files: {
          'models/schema.yml':
            "models:\n  - name: t\n    config: {contract: {enforced: true}}\n    columns:\n      - {name: d, data_type: Date}\n      - {name: n, data_type: UInt64, constraints: [{type: check, expression: 'n < 100'}]}\n",
        },
      },
    ];
    const BASE: ProjectFiles = { 'models/t.sql': "{{ config(materialized='table') }}SELECT toDate('2030-01-01') AS d, number AS n FROM system.numbers LIMIT 3" };

    OPTIONS.forEach(({ what, flag, files }, i) => {
      it(`${what}: refused before anything runs where the server lacks it, built where it has it`, async () => {
        const db = `ct_opt${i}`;
        const dir = serverProject(db, { ...BASE, ...files });
        const r = await kiln(dir, ['run']);
        if (!caps[flag]) {
          expect(r.code, allOutput(r)).toBe(2);
          expect(allOutput(r)).toMatch(new RegExp(`models/t\\.sql: model 't' uses ${what.replace(/[()]/g, '\\$&')}, which needs ClickHouse \\d+\\.\\d+ or later; target 'ch' runs ${server.version.replace(/\./g, '\\.')}`));
          expect(allOutput(r)).not.toMatch(STACK_FRAME);
          expect(await tableNames(db)).toEqual([]);
          return;
        }
        expect(r.code, allOutput(r)).toBe(0);
        expect(await rows(`SELECT count() AS n FROM ${db}.t`)).toEqual([{ n: '3' }]);
      });
    });

    it('builds codec, ttl, indexes, projections and checks together where the server has them all', async (ctx) => {
      const missing = OPTIONS.filter((o) => !caps[o.flag]).map((o) => o.what);
      if (missing.length) {
        console.log(`skipped: clickhouse-server ${server.version} lacks ${missing.join(', ')}`);
        ctx.skip(`clickhouse-server ${server.version} lacks ${missing.join(', ')}`);
        return;
      }
      const dir = serverProject('ct_all', { ...BASE, ...OPTIONS.reduce((acc, o) => ({ ...acc, ...o.files }), {}) });
      expect((await kiln(dir, ['run'])).code).toBe(0);
    });
  });
});
