import { describe, expect, it } from 'vitest';
import { ddlContext } from '../../src/adapters/adapter.js';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import type * as ddl from '../../src/adapters/ddl.js';
import * as sql from '../../src/adapters/staging-sql.js';
import { KilnError } from '../../src/errors.js';
import type { TargetConfig } from '../../src/project/types.js';
import type { SourceNode } from '../../src/project/nodes.js';
import { shardingOnTarget } from '../../src/stage/sharded-raw.js';
import { stageTableOf } from '../../src/stage/source-options.js';

/** Sharded raw tables (a source table's sharding_key on a cluster target, issue 14): SQL text and options, without a database. */

const old = capabilitiesFor('18.16.1');
const target: TargetConfig = { name: 'prod', engine: 'clickhouse', url: 'http://x:8123', database: 'analytics', raw_database: 'raw', cluster: 'c' };
function replicatedCtx(): ddl.DdlContext {
  const ctx = ddlContext(target, old);
  let n = 0;
  return { ...ctx, replication: { ...ctx.replication!, uniqueId: () => `u${++n}` } };
}
const raw = { database: 'raw', name: 'app__reviews' };
const columns = [
  { name: 'id', type: 'UInt64' },
  { name: '_kiln_file', type: 'LowCardinality(String)' },
];

describe('sharded raw table SQL', () => {
  it('creates <table>_local per shard ({shard} in its path, partitioned by file) and a Distributed <table> over it, both IF NOT EXISTS', () => {
    expect(sql.createShardedRawTable(replicatedCtx(), raw, columns, 'cityHash64(id)')).toEqual([
      "CREATE TABLE IF NOT EXISTS `raw`.`app__reviews_local` ON CLUSTER `c`\n(\n  `id` UInt64,\n  `_kiln_file` LowCardinality(String)\n)\nENGINE = ReplicatedMergeTree('/clickhouse/kiln/raw/app__reviews_local/u1/{shard}', '{shard}-{replica}')\nPARTITION BY _kiln_file\nORDER BY tuple()",
      "CREATE TABLE IF NOT EXISTS `raw`.`app__reviews` ON CLUSTER `c` AS `raw`.`app__reviews_local`\nENGINE = Distributed('c', 'raw', 'app__reviews_local', cityHash64(id))",
    ]);
  });

  it('drops a file from every shard with DROP PARTITION ON CLUSTER on the local table', () => {
    expect(sql.dropShardedPartition(replicatedCtx(), raw, sql.filePartition('/data/a.csv'))).toBe(
      "ALTER TABLE `raw`.`app__reviews_local` ON CLUSTER `c` DROP PARTITION '/data/a.csv'",
    );
    // The unsharded table's partition statements stay on kiln's node (its one replica set spans the cluster).
    expect(sql.dropPartition(replicatedCtx(), raw, sql.filePartition('/data/a.csv'))).toBe("ALTER TABLE `raw`.`app__reviews` DROP PARTITION '/data/a.csv'");
  });

  it('reads a table\'s engine to tell the layouts apart', () => {
    expect(sql.tableEngine(raw)).toBe("SELECT engine FROM system.tables WHERE database = 'raw' AND name = 'app__reviews'");
  });
});

const node = (options: Record<string, unknown>): SourceNode => ({
  resourceType: 'source',
  uniqueId: 'source.p.app.reviews',
  name: 'reviews',
  sourceName: 'app',
  tableName: 'reviews',
  identifier: 'app__reviews',
  loader: typeof options.loader === 'string' ? options.loader : undefined,
  options,
  originalFilePath: 'sources.yml',
  fqn: ['p', 'app', 'reviews'],
  description: '',
  columns: [],
  dataTests: [],
  meta: {},
  config: {},
  patch: { file: 'sources.yml', line: 9 },
});

describe('sharding_key of a source table', () => {

  it('is read trimmed; a key that is not a text is exit 2 at the table line', () => {
    expect(stageTableOf(node({ loader: 'csv', path: 'r.csv', sharding_key: ' cityHash64(id) ' }), '/p', 'raw').shardingKey).toBe('cityHash64(id)');
    expect(stageTableOf(node({ loader: 'csv', path: 'r.csv' }), '/p', 'raw').shardingKey).toBeUndefined();
    for (const bad of ['', 3, ['id']]) {
      const err = (() => {
        try {
          stageTableOf(node({ loader: 'csv', path: 'r.csv', sharding_key: bad }), '/p', 'raw');
        } catch (e) {
          return e as KilnError;
        }
      })();
      expect(err).toBeInstanceOf(KilnError);
      expect(err!.code).toBe('CONFIG_INVALID');
      expect(err!.message).toMatch(/^source app\.reviews: sharding_key must be an expression of the table's columns/);
      expect(err!.location).toEqual({ file: 'sources.yml', line: 9 });
    }
  });

  it('is ignored with a note on a target without a cluster', () => {
    const notes: string[] = [];
    const [t] = shardingOnTarget([stageTableOf(node({ loader: 'csv', path: 'r.csv', sharding_key: 'id' }), '/p', 'raw')], { name: 'dev' }, (m) => notes.push(m));
    expect(t!.shardingKey).toBeUndefined();
    expect(notes).toEqual(["source app.reviews: sharding_key ignored: target 'dev' has no cluster, so `raw`.`app__reviews` is one table"]);
  });

  it('is kept on a cluster target (files, a dump), and refused (exit 2) with a live table\'s incremental_key', () => {
    const csv = stageTableOf(node({ loader: 'csv', path: 'r.csv', sharding_key: 'id' }), '/p', 'raw');
    expect(shardingOnTarget([csv], target, () => undefined)[0]!.shardingKey).toBe('id');
    const dump = stageTableOf(node({ loader: 'mysql', dump: 'd.sql', sharding_key: 'id' }), '/p', 'raw');
    expect(shardingOnTarget([dump], target, () => undefined)[0]!.shardingKey).toBe('id');
    const live = stageTableOf(node({ loader: 'mysql', connection: { host: 'db', database: 'app' }, incremental_key: 'id', sharding_key: 'id' }), '/p', 'raw');
    expect(() => shardingOnTarget([live], target, () => undefined)).toThrow(/^source app\.reviews: sharding_key with incremental_key is not supported/);
  });
});
