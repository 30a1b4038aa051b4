import { describe, expect, it } from 'vitest';
import { ddlContext, readYourWrites } from '../../src/adapters/adapter.js';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as ddl from '../../src/adapters/ddl.js';
import { dropPartitionId } from '../../src/adapters/microbatch-sql.js';
import * as staging from '../../src/adapters/staging-sql.js';
import * as lock from '../../src/adapters/target-lock-sql.js';
import type { TargetConfig } from '../../src/project/types.js';

/** SQL text kiln sends on a cluster target (issue 14), checked without a database. */

const old = capabilitiesFor('18.16.1');
const server = (extra: Partial<TargetConfig>): TargetConfig => ({ name: 'prod', engine: 'clickhouse', url: 'http://x:8123', database: 'analytics', raw_database: 'raw', ...extra });
/** A replicated cluster target whose {uuid}s are u1, u2, … so the text is fixed. */
function replicatedCtx(extra: Partial<TargetConfig> = {}): ddl.DdlContext {
  const ctx = ddlContext(server({ cluster: 'c', ...extra }), old);
  let n = 0;
  return { ...ctx, replication: { ...ctx.replication!, uniqueId: () => `u${++n}` } };
}
const t = { database: 'analytics', name: 'dim_user' };
const tmp = { database: 'analytics', name: '__kiln_tmp__dim_user__abc' };

describe('a replicated cluster target', () => {
  it('creates MergeTree-family tables in their Replicated form, with a path of their own on every node', () => {
    const ctx = replicatedCtx();
    expect(ddl.createTable(ctx, tmp, [{ name: 'id', type: 'UInt8' }], { order_by: 'id' })).toBe(
      "CREATE TABLE `analytics`.`__kiln_tmp__dim_user__abc` ON CLUSTER `c`\n(\n  `id` UInt8\n)\nENGINE = ReplicatedMergeTree('/clickhouse/kiln/analytics/__kiln_tmp__dim_user__abc/u1', '{shard}-{replica}')\nORDER BY id",
    );
    expect(ddl.storageClause({ engine: 'ReplacingMergeTree(version)', order_by: 'id' }, { ctx, table: t })).toBe(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/kiln/analytics/dim_user/u2', '{shard}-{replica}', version)\nORDER BY id",
    );
    expect(ddl.storageClause({ engine: 'SummingMergeTree' }, { ctx, table: t })).toMatch(/^ENGINE = ReplicatedSummingMergeTree\('\/clickhouse\/kiln\/analytics\/dim_user\/u3', '\{shard\}-\{replica\}'\)\n/);
  });

  it("keeps an engine a model wrote as Replicated or Shared, and one that is not MergeTree, as written", () => {
    const ctx = replicatedCtx();
    for (const engine of ["ReplicatedMergeTree('/mine/{shard}', '{replica}')", 'SharedMergeTree()', 'Memory', 'Log']) {
      expect(ddl.storageClause({ engine }, { ctx, table: t }).split('\n')[0]).toBe(`ENGINE = ${engine.endsWith(')') ? engine : `${engine}()`}`);
    }
  });

  it('uses the target\'s zookeeper_path and replica_name patterns', () => {
    const ctx = replicatedCtx({ zookeeper_path: '/ch/{shard}/{database}.{table}/{uuid}', replica_name: '{replica}' });
    expect(ddl.storageClause({}, { ctx, table: t })).toBe("ENGINE = ReplicatedMergeTree('/ch/{shard}/analytics.dim_user/u1', '{replica}')\nORDER BY tuple()");
  });

  it('replicates staging tables, the ledger and the target lock', () => {
    const ctx = replicatedCtx();
    const raw = staging.createStagingTable(ctx, { database: 'raw', name: 'shop__orders' }, [{ name: 'a', type: 'String' }], true, staging.FILE_PARTITION_KEY);
    expect(raw).toBe(
      "CREATE TABLE IF NOT EXISTS `raw`.`shop__orders` ON CLUSTER `c`\n(\n  `a` String\n)\nENGINE = ReplicatedMergeTree('/clickhouse/kiln/raw/shop__orders/u1', '{shard}-{replica}')\nPARTITION BY _kiln_file\nORDER BY tuple()",
    );
    expect(lock.createLockTable(ctx, lock.lockRelation('analytics'), '{}')).toContain(
      "ON CLUSTER `c`\n(\n  beat DateTime,\n  holder String DEFAULT '{}'\n)\nENGINE = ReplicatedMergeTree('/clickhouse/kiln/_kiln/lock__analytics/u2', '{shard}-{replica}')",
    );
  });

  it('runs structure ON CLUSTER and statements on rows on the node kiln talks to', () => {
    const ctx = replicatedCtx();
    const src = { database: 'analytics', name: 'src' };
    for (const sql of [ddl.createDatabase(ctx, 'analytics'), ddl.renameTables(ctx, [[t, tmp]]), ddl.dropRelation(ctx, t), ddl.createView(ctx, t, 'SELECT 1', { orReplace: false })]) {
      expect(sql).toContain(' ON CLUSTER `c`');
    }
    for (const sql of [
      ddl.replacePartitionFrom(ctx, t, 'p', src),
      ddl.attachPartitionFrom(ctx, t, 'p', src),
      ddl.deleteWhere(ctx, t, 'id = 1'),
      ddl.addColumns(ctx, t, [{ name: 'x', type: 'UInt8' }]),
      staging.replacePartition(ctx, t, "'f'", src),
      staging.dropPartition(ctx, t, "'f'"),
      staging.truncate(ctx, t),
      dropPartitionId(ctx, t, 'p'),
    ]) {
      expect(sql).not.toContain('ON CLUSTER');
    }
    // Not replicated: each node's table is its own, so a column is added on every node.
    const plain = ddlContext(server({ cluster: 'c', replicated: false }), old);
    expect(ddl.addColumns(plain, t, [{ name: 'x', type: 'UInt8' }])).toBe('ALTER TABLE `analytics`.`dim_user` ON CLUSTER `c` ADD COLUMN `x` UInt8');
    expect(ddl.storageClause({}, { ctx: plain, table: t })).toBe('ENGINE = MergeTree()\nORDER BY tuple()');
  });

  it('fills a table from a SELECT with one INSERT on one node, never CREATE … AS SELECT ON CLUSTER (every node would run it)', () => {
    const ctx = replicatedCtx();
    const statements = ddl.createTableFromSelect(ctx, tmp, 'SELECT 1 AS id', { order_by: 'id' });
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/^CREATE TABLE `analytics`.`__kiln_tmp__dim_user__abc` ON CLUSTER `c`\nENGINE = ReplicatedMergeTree\(.*\)\nORDER BY id\nAS SELECT \* FROM \(\nSELECT 1 AS id\n\) LIMIT 0$/);
    expect(statements[1]).toBe('INSERT INTO `analytics`.`__kiln_tmp__dim_user__abc`\nSELECT 1 AS id');
    expect(ddl.createTableFromSelect(ddlContext(server({}), old), tmp, 'SELECT 1', {})).toHaveLength(1);
  });

  it('copies a Replicated table\'s shape with a new ZooKeeper path (the old one is taken)', () => {
    const ctx = replicatedCtx();
    const shown = "CREATE TABLE analytics.dim_user (`id` UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/kiln/analytics/__kiln_tmp__dim_user__x/u0', '{shard}-{replica}', v) PARTITION BY id ORDER BY id SETTINGS index_granularity = 8192";
    expect(ddl.createTableAsTable(ctx, tmp, t, ddl.storageOfCreate(shown))).toBe(
      "CREATE TABLE `analytics`.`__kiln_tmp__dim_user__abc` ON CLUSTER `c` AS `analytics`.`dim_user`\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/kiln/analytics/__kiln_tmp__dim_user__abc/u1', '{shard}-{replica}', v) PARTITION BY id ORDER BY id SETTINGS index_granularity = 8192",
    );
  });

  it('waits for every replica: insert quorum of all nodes, partition changes synced to all', () => {
    const target = server({ cluster: 'c' });
    expect(readYourWrites(target, ddlContext(target, old), 4)).toEqual({ insert_quorum: 4, replication_alter_partitions_sync: 2 });
    const plain = server({ cluster: 'c', replicated: false });
    expect(readYourWrites(plain, ddlContext(plain, old), 4)).toEqual({});
  });
});

describe('a server that replicates by itself (ClickHouse Cloud: replicated without a cluster)', () => {
  it('sends no ON CLUSTER, keeps engines as written, and reads see every committed write', () => {
    const target = server({ replicated: true });
    const ctx = ddlContext(target, capabilitiesFor('24.8.1'));
    expect(ctx.cluster).toBeUndefined();
    expect(ctx.replication).toBeUndefined();
    expect(ddl.createTable(ctx, t, [{ name: 'id', type: 'UInt8' }], {})).toBe('CREATE TABLE `analytics`.`dim_user`\n(\n  `id` UInt8\n)\nENGINE = MergeTree()\nORDER BY tuple()');
    expect(ddl.renameTables(ctx, [[tmp, t]])).not.toContain('ON CLUSTER');
    expect(readYourWrites(target, ctx, 0)).toEqual({ select_sequential_consistency: 1 });
  });
});
