import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Adapter } from '../../src/adapters/adapter.js';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import { distributedIncrementalMaterialization, distributedTableMaterialization } from '../../src/materialize/distributed-materialization.js';
import { recordingContext } from '../helpers/recording-context.js';

/**
 * The statement sequence of the distributed materializations, recorded below a real adapter
 * (embedded) that answers the reads: DESCRIBE of the model, system.clusters, system.tables, and
 * the count of the scratch Distributed table (a plain table here standing in for it: the embedded
 * engine has no cluster to run the recorded ON CLUSTER statements on; tests/cluster runs them).
 */
const dir = mkdtempSync(join(tmpdir(), 'kiln-dist-statements-'));
let adapter: Adapter;
const q = (name: string) => `\`analytics\`.\`${name}\``;

beforeAll(async () => {
  adapter = await Adapter.connect({ name: 'test', engine: 'embedded', path: join(dir, 'wh'), database: 'analytics', raw_database: 'raw' });
  await adapter.createDatabase('analytics');
  await adapter.execute(`CREATE TABLE ${q('__kiln_tmp__m__run1_ins')} (id UInt32, v String) ENGINE = MergeTree ORDER BY id`);
  await adapter.execute(`INSERT INTO ${q('__kiln_tmp__m__run1_ins')} VALUES (1, 'a'), (2, 'b')`);
});
afterAll(async () => {
  await adapter?.close();
  rmSync(dir, { recursive: true, force: true });
});

const rel = { database: 'analytics', name: 'm' };

describe.each([
  ['a current server', '24.8'],
  ['18.16', '18.16'],
] as const)('distributed materializations on %s', (_label, version) => {
  const capabilities = capabilitiesFor(version);

  it('distributed_table: scratch local + Distributed tables ON CLUSTER, one RENAME publishes on every node', async () => {
    const { ctx, statements } = recordingContext({
      adapter, relation: rel, cluster: 'c', capabilities, forward: false,
      sql: "SELECT toUInt32(1) AS id, 'a' AS v",
      config: { materialized: 'distributed_table', sharding_key: 'id', order_by: 'id' },
    });
    const result = await distributedTableMaterialization.run(ctx);
    expect(result).toEqual({ rowsAffected: 2, message: 'created distributed table analytics.m' });
    expect(statements).toEqual([
      `CREATE TABLE ${q('__kiln_tmp__m__run1_local')} ON CLUSTER \`c\`\n(\n  \`id\` UInt32,\n  \`v\` String\n)\nENGINE = MergeTree()\nORDER BY id`,
      `CREATE TABLE ${q('__kiln_tmp__m__run1_ins')} ON CLUSTER \`c\` AS ${q('__kiln_tmp__m__run1_local')}\nENGINE = Distributed('c', 'analytics', '__kiln_tmp__m__run1_local', id)`,
      `INSERT INTO ${q('__kiln_tmp__m__run1_ins')} (\`id\`, \`v\`)\nSELECT \`id\`, \`v\` FROM (\nSELECT toUInt32(1) AS id, 'a' AS v\n)`,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__m__run1_ins')} ON CLUSTER \`c\``,
      `CREATE TABLE ${q('__kiln_tmp__m__run1')} ON CLUSTER \`c\` AS ${q('__kiln_tmp__m__run1_local')}\nENGINE = Distributed('c', 'analytics', 'm_local', id)`,
      `RENAME TABLE ${q('__kiln_tmp__m__run1_local')} TO ${q('m_local')}, ${q('__kiln_tmp__m__run1')} TO ${q('m')} ON CLUSTER \`c\``,
    ]);
  });

  it('a failed build drops its scratch tables on every node and leaves the target alone', async () => {
    const { ctx, statements } = recordingContext({
      adapter, relation: rel, cluster: 'c', capabilities, forward: false,
      sql: "SELECT toUInt32(1) AS id, 'a' AS v",
      config: { materialized: 'distributed_table' },
      failOn: (sql) => (sql.startsWith('INSERT') ? new Error('Code: 159, e.displayText() = DB::Exception: Watching task is executing too long') : undefined),
    });
    await expect(distributedTableMaterialization.run(ctx)).rejects.toThrow(/too long/);
    expect(statements.slice(3)).toEqual([
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__m__run1_ins')} ON CLUSTER \`c\``,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__m__run1')} ON CLUSTER \`c\``,
      `DROP TABLE IF EXISTS ${q('__kiln_tmp__m__run1_local')} ON CLUSTER \`c\``,
    ]);
    expect(statements.some((s) => /RENAME/.test(s))).toBe(false);
  });
});

describe('a distributed model with table options', () => {
  it("gives the shards' <name>_local its codecs, indexes, projections and CHECKs; the Distributed table copies its columns", async () => {
    const { ctx, statements } = recordingContext({
      adapter, relation: rel, cluster: 'c', capabilities: capabilitiesFor('24.8'), forward: false,
      sql: "SELECT toUInt32(1) AS id, 'a' AS v",
      config: { materialized: 'distributed_table', sharding_key: 'id', order_by: 'id' },
    });
    const table = {
      columnOptions: { v: { codec: 'ZSTD(3)' } },
      elements: {
        indexes: [{ name: 'by_v', expression: 'v', type: 'bloom_filter', granularity: 4 }],
        projections: [{ name: 'per_v', query: 'SELECT v, count() GROUP BY v' }],
        checks: [{ name: 'id_positive', expression: 'id > 0' }],
      },
    };
    await distributedTableMaterialization.run({ ...ctx, table });
    expect(statements[0]).toBe(
      `CREATE TABLE ${q('__kiln_tmp__m__run1_local')} ON CLUSTER \`c\`\n(\n  \`id\` UInt32,\n  \`v\` String CODEC(ZSTD(3)),\n` +
        '  INDEX `by_v` v TYPE bloom_filter GRANULARITY 4,\n  PROJECTION `per_v` (SELECT v, count() GROUP BY v),\n  CONSTRAINT `id_positive` CHECK id > 0\n)\nENGINE = MergeTree()\nORDER BY id',
    );
    expect(statements[1]).toBe(`CREATE TABLE ${q('__kiln_tmp__m__run1_ins')} ON CLUSTER \`c\` AS ${q('__kiln_tmp__m__run1_local')}\nENGINE = Distributed('c', 'analytics', '__kiln_tmp__m__run1_local', id)`);
  });

  it('refuses a codec for a column the model does not return, before it creates anything', async () => {
    const { ctx, statements } = recordingContext({
      adapter, relation: rel, cluster: 'c', capabilities: capabilitiesFor('24.8'), forward: false,
      sql: "SELECT toUInt32(1) AS id, 'a' AS v",
      config: { materialized: 'distributed_table' },
    });
    const table = { columnOptions: { w: { codec: 'ZSTD(3)' } }, elements: { indexes: [], projections: [], checks: [] } };
    await expect(distributedTableMaterialization.run({ ...ctx, table })).rejects.toThrow("codec/ttl given for column 'w', which the model does not return");
    expect(statements.filter((s) => s.startsWith('CREATE'))).toEqual([]);
  });
});
