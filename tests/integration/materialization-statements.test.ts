import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapter, type RelationInfo } from '../../src/adapters/adapter.js';
import { SqlError } from '../../src/adapters/sql-error.js';
import { incrementalMaterialization } from '../../src/materialize/incremental-materialization.js';
import { seedMaterialization } from '../../src/materialize/seed-materialization.js';
import { tableMaterialization } from '../../src/materialize/table-materialization.js';
import { viewMaterialization } from '../../src/materialize/view-materialization.js';
import type { NodeConfig } from '../../src/project/types.js';
import { recordingContext } from '../helpers/recording-context.js';

/**
 * SQL-text tests of the strategies: the exact statement sequence each one sends for a given
 * capability set and warehouse state. Statements also run on the embedded engine (a real
 * adapter), so every sequence asserted here is one ClickHouse accepts.
 */
const dir = mkdtempSync(join(tmpdir(), 'kiln-statements-'));
let adapter: Adapter;

beforeAll(async () => {
  adapter = await Adapter.connect({ name: 'test', engine: 'embedded', path: join(dir, 'wh'), database: 'analytics', raw_database: 'raw' });
  await adapter.createDatabase('analytics');
});
afterAll(async () => {
  await adapter?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rel = (name: string) => ({ database: 'analytics', name });
const q = (name: string) => `\`analytics\`.\`${name}\``;

async function existing(name: string): Promise<RelationInfo | undefined> {
  return (await adapter.listRelations(['analytics'])).find((r) => r.name === name);
}
async function rows(name: string): Promise<number[]> {
  return (await adapter.query<{ id: number }>(`SELECT id FROM ${q(name)} ORDER BY id`)).rows.map((r) => Number(r.id));
}
async function names(): Promise<string[]> {
  return (await adapter.listRelations(['analytics'])).map((r) => r.name).sort();
}
async function makeTable(name: string, n: number): Promise<void> {
  await adapter.execute(`CREATE TABLE ${q(name)} ENGINE = MergeTree() ORDER BY id AS SELECT toUInt32(number) AS id FROM numbers(${n})`);
}
const notImplemented = () => new SqlError('Code: 48. DB::Exception: EXCHANGE is not supported. (NOT_IMPLEMENTED)', 48, 'EXCHANGE');

describe('table materialization', () => {
  const select = 'SELECT toUInt32(number) AS id FROM numbers(5)';

  it('absent relation: build under the temp name, then one RENAME', async () => {
    const r = recordingContext({ adapter, relation: rel('t_new'), sql: select, config: { order_by: 'id' }, runId: 'r1' });
    const out = await tableMaterialization.run(r.ctx);
    expect(r.statements).toEqual([
      `CREATE TABLE ${q('__kiln_tmp__t_new__r1')}\nENGINE = MergeTree()\nORDER BY id\nAS ${select}`,
      `RENAME TABLE ${q('__kiln_tmp__t_new__r1')} TO ${q('t_new')}`,
    ]);
    expect(out).toEqual({ rowsAffected: 5, message: 'created table analytics.t_new' });
    expect(await rows('t_new')).toEqual([0, 1, 2, 3, 4]);
  });

  it('existing relation with exchangeTables: EXCHANGE, then drop the old one under the temp name', async () => {
    await makeTable('t_ex', 2);
    const r = recordingContext({ adapter, relation: rel('t_ex'), sql: select, existing: await existing('t_ex'), capabilities: { exchangeTables: true }, runId: 'r2' });
    await tableMaterialization.run(r.ctx);
    expect(r.statements.slice(1)).toEqual([
      `EXCHANGE TABLES ${q('__kiln_tmp__t_ex__r2')} AND ${q('t_ex')}`,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__t_ex__r2')}`,
    ]);
    expect(await rows('t_ex')).toEqual([0, 1, 2, 3, 4]);
    expect((await names()).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
  });

  it('existing relation without exchangeTables (18.16): one RENAME pair, then drop the old one', async () => {
    await makeTable('t_rn', 2);
    const r = recordingContext({ adapter, relation: rel('t_rn'), sql: select, existing: await existing('t_rn'), capabilities: { exchangeTables: false }, runId: 'r3' });
    await tableMaterialization.run(r.ctx);
    expect(r.statements).toEqual([
      `CREATE TABLE ${q('__kiln_tmp__t_rn__r3')}\nENGINE = MergeTree()\nORDER BY tuple()\nAS ${select}`,
      `RENAME TABLE ${q('t_rn')} TO ${q('__kiln_old__t_rn__r3')}, ${q('__kiln_tmp__t_rn__r3')} TO ${q('t_rn')}`,
      `DROP TABLE IF EXISTS ${q('__kiln_old__t_rn__r3')}`,
    ]);
    expect(await rows('t_rn')).toEqual([0, 1, 2, 3, 4]);
    expect((await names()).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
  });

  it('EXCHANGE refused as not implemented (Ordinary database): falls back to the RENAME pair', async () => {
    await makeTable('t_fb', 2);
    const r = recordingContext({
      adapter,
      relation: rel('t_fb'),
      sql: select,
      existing: await existing('t_fb'),
      runId: 'r4',
      failOn: (sql) => (sql.startsWith('EXCHANGE') ? notImplemented() : undefined),
    });
    await tableMaterialization.run(r.ctx);
    expect(r.statements.slice(1).map((s) => s.split(' ').slice(0, 2).join(' '))).toEqual(['EXCHANGE TABLES', 'RENAME TABLE', 'DROP TABLE']);
    expect(await rows('t_fb')).toEqual([0, 1, 2, 3, 4]);
  });

  it('a failed build drops the temp table and leaves the old table and its rows', async () => {
    await makeTable('t_fail', 3);
    const r = recordingContext({ adapter, relation: rel('t_fail'), sql: 'SELECT no_such_column AS id', existing: await existing('t_fail'), runId: 'r5' });
    await expect(tableMaterialization.run(r.ctx)).rejects.toBeInstanceOf(SqlError);
    expect(r.statements).toEqual([
      `CREATE TABLE ${q('__kiln_tmp__t_fail__r5')}\nENGINE = MergeTree()\nORDER BY tuple()\nAS SELECT no_such_column AS id`,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__t_fail__r5')}`,
    ]);
    expect(await rows('t_fail')).toEqual([0, 1, 2]);
    expect((await names()).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
  });

  it('a failed swap also drops the temp table and keeps the old one', async () => {
    await makeTable('t_swapfail', 3);
    const r = recordingContext({
      adapter,
      relation: rel('t_swapfail'),
      sql: select,
      existing: await existing('t_swapfail'),
      runId: 'r6',
      failOn: (sql) => (sql.startsWith('EXCHANGE') ? new SqlError('Code: 999. DB::Exception: boom', 999, sql) : undefined),
    });
    await expect(tableMaterialization.run(r.ctx)).rejects.toThrow('boom');
    expect(r.statements.at(-1)).toBe(`DROP TABLE IF EXISTS ${q('__kiln_tmp__t_swapfail__r6')}`);
    expect(await rows('t_swapfail')).toEqual([0, 1, 2]);
  });

  it('pre hooks run before the build and post hooks after the swap; storage config reaches the DDL', async () => {
    const r = recordingContext({
      adapter,
      relation: rel('t_hooks'),
      sql: "SELECT toUInt32(number) AS id, toDate('2030-01-01') AS d FROM numbers(3)",
      config: {
        engine: 'ReplacingMergeTree',
        order_by: ['id', 'd'],
        partition_by: 'toYYYYMM(d)',
        primary_key: 'id',
        ttl: 'd + INTERVAL 1 YEAR',
        settings: { index_granularity: 256 },
        pre_hook: ['CREATE TABLE IF NOT EXISTS `analytics`.`hook_log` (what String) ENGINE = Log'],
        post_hook: ["INSERT INTO `analytics`.`hook_log` VALUES ('post')"],
      },
      runId: 'r7',
    });
    await tableMaterialization.run(r.ctx);
    expect(r.statements).toEqual([
      'CREATE TABLE IF NOT EXISTS `analytics`.`hook_log` (what String) ENGINE = Log',
      `CREATE TABLE ${q('__kiln_tmp__t_hooks__r7')}\nENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(d)\nORDER BY (id, d)\nPRIMARY KEY id\nTTL d + INTERVAL 1 YEAR\nSETTINGS index_granularity = 256\nAS SELECT toUInt32(number) AS id, toDate('2030-01-01') AS d FROM numbers(3)`,
      `RENAME TABLE ${q('__kiln_tmp__t_hooks__r7')} TO ${q('t_hooks')}`,
      "INSERT INTO `analytics`.`hook_log` VALUES ('post')",
    ]);
    const meta = await adapter.query<{ engine: string; sorting_key: string; partition_key: string }>(
      "SELECT engine, sorting_key, partition_key FROM system.tables WHERE database = 'analytics' AND name = 't_hooks'",
    );
    expect(meta.rows).toEqual([{ engine: 'ReplacingMergeTree', sorting_key: 'id, d', partition_key: 'toYYYYMM(d)' }]);
  });

  it('ON CLUSTER reaches every statement of the swap', async () => {
    const r = recordingContext({
      adapter,
      relation: rel('t_cluster'),
      existing: { database: 'analytics', name: 't_cluster', engine: 'MergeTree', isView: false },
      capabilities: { exchangeTables: false },
      cluster: 'prod',
      forward: false,
      runId: 'r8',
    });
    // countRows reads the temp table, which was never created: the build fails and is cleaned up.
    await expect(tableMaterialization.run(r.ctx)).rejects.toThrow();
    // CREATE … AS SELECT ON CLUSTER would run the SELECT on every node: an empty CREATE ON
    // CLUSTER, one INSERT on this node (rows reach the other nodes by replication), the cleanup's DROP.
    expect(r.statements.map((s) => s.split(/\s/)[0])).toEqual(['CREATE', 'INSERT', 'DROP']);
    for (const s of r.statements) {
      if (s.startsWith('INSERT')) expect(s).not.toContain('ON CLUSTER');
      else expect(s).toContain(' ON CLUSTER `prod`');
    }
  });
});

describe('view materialization', () => {
  it('createOrReplaceView, relation absent or a view: one CREATE OR REPLACE VIEW', async () => {
    const first = recordingContext({ adapter, relation: rel('v1'), sql: 'SELECT 1 AS id;', capabilities: { createOrReplaceView: true } });
    expect(await viewMaterialization.run(first.ctx)).toEqual({ rowsAffected: null, message: 'created view analytics.v1' });
    const again = recordingContext({ adapter, relation: rel('v1'), sql: 'SELECT 2 AS id', existing: await existing('v1'), capabilities: { createOrReplaceView: true } });
    await viewMaterialization.run(again.ctx);
    expect([...first.statements, ...again.statements]).toEqual([
      `CREATE OR REPLACE VIEW ${q('v1')} AS\nSELECT 1 AS id`,
      `CREATE OR REPLACE VIEW ${q('v1')} AS\nSELECT 2 AS id`,
    ]);
    expect(await rows('v1')).toEqual([2]);
  });

  it('replacing a table by a view swaps it in even where CREATE OR REPLACE VIEW exists', async () => {
    await makeTable('v_was_table', 2);
    const r = recordingContext({ adapter, relation: rel('v_was_table'), sql: 'SELECT 7 AS id', existing: await existing('v_was_table'), runId: 'r9' });
    await viewMaterialization.run(r.ctx);
    expect(r.statements).toEqual([
      `CREATE VIEW ${q('__kiln_tmp__v_was_table__r9')} AS\nSELECT 7 AS id`,
      `EXCHANGE TABLES ${q('__kiln_tmp__v_was_table__r9')} AND ${q('v_was_table')}`,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__v_was_table__r9')}`,
    ]);
    expect((await existing('v_was_table'))?.isView).toBe(true);
    expect(await rows('v_was_table')).toEqual([7]);
  });

  it('without createOrReplaceView (18.16): temp view then RENAME, or the RENAME pair when it exists', async () => {
    const caps = { createOrReplaceView: false, exchangeTables: false };
    const create = recordingContext({ adapter, relation: rel('v_old'), sql: 'SELECT 1 AS id', capabilities: caps, runId: 'ra' });
    await viewMaterialization.run(create.ctx);
    const replace = recordingContext({ adapter, relation: rel('v_old'), sql: 'SELECT 3 AS id', existing: await existing('v_old'), capabilities: caps, runId: 'rb' });
    await viewMaterialization.run(replace.ctx);
    expect(create.statements).toEqual([
      `CREATE VIEW ${q('__kiln_tmp__v_old__ra')} AS\nSELECT 1 AS id`,
      `RENAME TABLE ${q('__kiln_tmp__v_old__ra')} TO ${q('v_old')}`,
    ]);
    expect(replace.statements).toEqual([
      `CREATE VIEW ${q('__kiln_tmp__v_old__rb')} AS\nSELECT 3 AS id`,
      `RENAME TABLE ${q('v_old')} TO ${q('__kiln_old__v_old__rb')}, ${q('__kiln_tmp__v_old__rb')} TO ${q('v_old')}`,
      `DROP TABLE IF EXISTS ${q('__kiln_old__v_old__rb')}`,
    ]);
    expect(await rows('v_old')).toEqual([3]);
  });

  it('a view that does not compile leaves the old view and no temp view', async () => {
    const caps = { createOrReplaceView: false };
    await viewMaterialization.run(recordingContext({ adapter, relation: rel('v_keep'), sql: 'SELECT 5 AS id', capabilities: caps, runId: 'rc' }).ctx);
    const r = recordingContext({ adapter, relation: rel('v_keep'), sql: 'SELECT nope FROM nowhere', existing: await existing('v_keep'), capabilities: caps, runId: 'rd' });
    await expect(viewMaterialization.run(r.ctx)).rejects.toBeInstanceOf(SqlError);
    expect(r.statements.at(-1)).toBe(`DROP TABLE IF EXISTS ${q('__kiln_tmp__v_keep__rd')}`);
    expect(await rows('v_keep')).toEqual([5]);
    expect((await names()).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
  });

  it('hooks wrap the view, and ON CLUSTER is threaded', async () => {
    const r = recordingContext({
      adapter,
      relation: rel('v_c'),
      config: { pre_hook: ['SELECT 1'], post_hook: ['SELECT 2'] },
      capabilities: { createOrReplaceView: true },
      cluster: 'prod',
      forward: false,
    });
    await viewMaterialization.run(r.ctx);
    expect(r.statements).toEqual(['SELECT 1', `CREATE OR REPLACE VIEW ${q('v_c')} ON CLUSTER \`prod\` AS\nSELECT 1 AS id`, 'SELECT 2']);
  });
});

describe('seed materialization', () => {
  it('creates a typed temp table (column_types override inference), loads it, swaps it in', async () => {
    writeFileSync(join(dir, 'codes.csv'), 'code,n,label\nA,1,alpha\nB,2,\\N\n');
    const r = recordingContext({
      adapter,
      relation: rel('codes'),
      config: { column_types: { code: 'FixedString(1)' }, order_by: 'code' },
      seed: { rootPath: dir, file: 'codes.csv' },
      runId: 're',
    });
    expect(await seedMaterialization.run(r.ctx)).toEqual({ rowsAffected: 2, message: 'loaded seed analytics.codes' });
    expect(r.statements).toEqual([
      `CREATE TABLE ${q('__kiln_tmp__codes__re')}\n(\n  \`code\` FixedString(1),\n  \`n\` Int64,\n  \`label\` Nullable(String)\n)\nENGINE = MergeTree()\nORDER BY code`,
      `RENAME TABLE ${q('__kiln_tmp__codes__re')} TO ${q('codes')}`,
    ]);
    const loaded = await adapter.query<{ code: string; label: string | null }>('SELECT code, label FROM `analytics`.`codes` ORDER BY code');
    expect(loaded.rows).toEqual([{ code: 'A', label: 'alpha' }, { code: 'B', label: null }]);
  });

  it('a column_types entry naming no column is a config error pointing at the file', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'a\n1\n');
    const r = recordingContext({ adapter, relation: rel('bad'), config: { column_types: { b: 'String' } }, seed: { rootPath: dir, file: 'bad.csv' } });
    await expect(seedMaterialization.run(r.ctx)).rejects.toThrow("column_types names 'b', which is not a column of bad.csv");
    expect(r.statements).toEqual([]);
  });
});

describe('incremental materialization: the increment reaches the target in one statement', () => {
  /** Statements that change `name` itself (not a scratch table). */
  const writesTo = (statements: readonly string[], name: string) =>
    statements.filter((s) => s.includes(`ALTER TABLE ${q(name)} `) || s.startsWith(`INSERT INTO ${q(name)}`) || ((s.startsWith('EXCHANGE') || s.startsWith('RENAME')) && s.includes(q(name))));
  const overwrite = (extra: NodeConfig = {}): NodeConfig => ({ materialized: 'incremental', incremental_strategy: 'insert_overwrite', partition_by: 'd', order_by: 'id', ...extra });
  const targetOf = (name: string) =>
    adapter.execute(`CREATE TABLE ${q(name)} ENGINE = MergeTree() PARTITION BY d ORDER BY id AS SELECT toUInt32(number) AS id, toUInt8(intDiv(number, 2)) AS d, toUInt8(1) AS v FROM numbers(4)`);
  const contents = async (name: string) =>
    (await adapter.query<{ id: number; v: number }>(`SELECT id, v FROM ${q(name)} ORDER BY id`)).rows.map((r) => [Number(r.id), Number(r.v)]);
  // ids 2…5 in partitions 1 and 2, version 2: partition 0 stays, 1 is replaced, 2 is new.
  const twoPartitions = 'SELECT toUInt32(number) AS id, toUInt8(intDiv(number, 2)) AS d, toUInt8(2) AS v FROM numbers(2, 4)';

  for (const exchangeTables of [true, false]) {
    it(`insert_overwrite of two partitions: a copy of the target is changed and swapped in (exchangeTables ${exchangeTables})`, async () => {
      const name = `io_two_${exchangeTables}`;
      await targetOf(name);
      const r = recordingContext({ adapter, relation: rel(name), sql: twoPartitions, config: overwrite(), existing: await existing(name), capabilities: { exchangeTables }, runId: 'i1' });
      expect(await incrementalMaterialization.run(r.ctx)).toEqual({ rowsAffected: 4, message: `replaced partitions of analytics.${name}` });
      expect(writesTo(r.statements, name)).toHaveLength(1);
      expect(writesTo(r.statements, name)[0]).toMatch(exchangeTables ? /^EXCHANGE TABLES/ : /^RENAME TABLE/);
      expect(await contents(name)).toEqual([[0, 1], [1, 1], [2, 2], [3, 2], [4, 2], [5, 2]]);
      expect((await names()).filter((n) => n.startsWith('__kiln_'))).toEqual([]);
    });
  }

  it('insert_overwrite of one partition: one REPLACE PARTITION', async () => {
    await targetOf('io_one');
    const sql = 'SELECT toUInt32(number) AS id, toUInt8(intDiv(number, 2)) AS d, toUInt8(2) AS v FROM numbers(2, 2)';
    const r = recordingContext({ adapter, relation: rel('io_one'), sql, config: overwrite(), existing: await existing('io_one'), runId: 'i2' });
    await incrementalMaterialization.run(r.ctx);
    expect(writesTo(r.statements, 'io_one')).toEqual([`ALTER TABLE ${q('io_one')} REPLACE PARTITION ID '1' FROM ${q('__kiln_tmp__io_one__i2_new')}`]);
    expect(await contents('io_one')).toEqual([[0, 1], [1, 1], [2, 2], [3, 2]]);
  });

  it('a new column (append_new_columns) is added to the copy, never to the target before its rows', async () => {
    await targetOf('io_wider');
    const sql = 'SELECT toUInt32(number) AS id, toUInt8(intDiv(number, 2)) AS d, toUInt8(2) AS v, toUInt8(7) AS w FROM numbers(2, 2)';
    const r = recordingContext({ adapter, relation: rel('io_wider'), sql, config: overwrite({ on_schema_change: 'append_new_columns' }), existing: await existing('io_wider'), capabilities: { exchangeTables: true }, runId: 'i3' });
    await incrementalMaterialization.run(r.ctx);
    expect(writesTo(r.statements, 'io_wider').map((s) => s.split(' ')[0])).toEqual(['EXCHANGE']);
    const rows = await adapter.query<{ id: number; w: number }>(`SELECT id, w FROM ${q('io_wider')} ORDER BY id`);
    expect(rows.rows.map((x) => [Number(x.id), Number(x.w)])).toEqual([[0, 0], [1, 0], [2, 7], [3, 7]]);
  });
});
