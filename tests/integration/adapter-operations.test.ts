import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapter } from '../../src/adapters/adapter.js';
import { recordingContext } from '../helpers/recording-context.js';

/**
 * The adapter's operations on the embedded engine, each run through a capability view (as an
 * older server would get them) with every statement recorded. The statements really run, so the
 * mutation deleteWhere waits for on "old servers" is a real one.
 */
const dir = mkdtempSync(join(tmpdir(), 'kiln-adapter-ops-'));
let adapter: Adapter;

beforeAll(async () => {
  adapter = await Adapter.connect({ name: 'test', engine: 'embedded', path: join(dir, 'wh'), database: 'ops', raw_database: 'raw' });
  await adapter.createDatabase('ops');
});
afterAll(async () => {
  await adapter?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rel = (name: string) => ({ database: 'ops', name });
const q = (name: string) => `\`ops\`.\`${name}\``;
const view = (capabilities: Parameters<typeof recordingContext>[0]['capabilities']) => recordingContext({ adapter, relation: rel('unused'), capabilities });

async function ids(name: string): Promise<number[]> {
  return (await adapter.query<{ id: number }>(`SELECT id FROM ${q(name)} ORDER BY id`)).rows.map((r) => Number(r.id));
}
async function makeTable(name: string, n: number, partitionBy = 'tuple()'): Promise<void> {
  await adapter.execute(`CREATE TABLE ${q(name)} ENGINE = MergeTree() PARTITION BY ${partitionBy} ORDER BY id AS SELECT toUInt32(number) AS id FROM numbers(${n})`);
}

describe('deleteWhere', () => {
  it('returns once a mutation (servers without lightweight DELETE) has removed the rows', async () => {
    await makeTable('mutated', 10);
    const r = view({ lightweightDelete: false });
    await r.ctx.warehouse.deleteWhere(rel('mutated'), 'id % 2 = 0');
    expect(r.statements).toEqual([`ALTER TABLE ${q('mutated')} DELETE WHERE id % 2 = 0`]);
    expect(await ids('mutated')).toEqual([1, 3, 5, 7, 9]);
  });

  it('uses a lightweight DELETE where the server has one', async () => {
    await makeTable('light', 4);
    const r = view({ lightweightDelete: true });
    await r.ctx.warehouse.deleteWhere(rel('light'), 'id < 2');
    expect(r.statements).toEqual([`DELETE FROM ${q('light')} WHERE id < 2`]);
    expect(await ids('light')).toEqual([2, 3]);
  });
});

describe('replacePartitions', () => {
  it('replaces only the named partitions of the target', async () => {
    await makeTable('target', 6, 'id % 3');
    await adapter.execute(`CREATE TABLE ${q('fresh')} AS ${q('target')}`);
    await adapter.execute(`INSERT INTO ${q('fresh')} SELECT toUInt32(number) AS id FROM numbers(30, 6)`);
    const r = view({});
    // Partition ids of `id % 3` are the values themselves: 30, 33 are in '0'; 31, 34 in '1'.
    await r.ctx.warehouse.replacePartitions(rel('fresh'), rel('target'), ['0', '1']);
    expect(r.statements).toEqual([
      `ALTER TABLE ${q('target')} REPLACE PARTITION ID '0' FROM ${q('fresh')}`,
      `ALTER TABLE ${q('target')} REPLACE PARTITION ID '1' FROM ${q('fresh')}`,
    ]);
    expect(await ids('target')).toEqual([2, 5, 30, 31, 33, 34]);
  });
});

describe('swap', () => {
  it('renames the old table aside and the new one in where EXCHANGE is missing, then drops the old', async () => {
    await makeTable('live', 2);
    await makeTable('built', 5);
    const r = view({ exchangeTables: false });
    await r.ctx.warehouse.swap(rel('built'), rel('live'), { targetExists: true, old: rel('live_old') });
    expect(r.statements).toEqual([
      `RENAME TABLE ${q('live')} TO ${q('live_old')}, ${q('built')} TO ${q('live')}`,
      `DROP TABLE IF EXISTS ${q('live_old')}`,
    ]);
    expect(await ids('live')).toEqual([0, 1, 2, 3, 4]);
  });
});
