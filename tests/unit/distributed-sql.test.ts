import { afterAll, describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import { createTable } from '../../src/adapters/ddl.js';
import { createDistributed, keptRows, localRelation, replicasPerShard, shardContext, SYNC_DISTRIBUTED_INSERT } from '../../src/adapters/distributed-sql.js';
import { compileProject } from '../../src/compile/compile-project.js';
import { modelKindOf } from '../../src/compile/model-kind.js';
import { KilnError, KilnErrors } from '../../src/errors.js';
import { isLeftoverOf } from '../../src/materialize/materialization.js';
import { scratchNames } from '../../src/materialize/distributed-materialization.js';
import { loadProject } from '../../src/project/load-project.js';
import { removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const rel = { database: 'analytics', name: 'fct_reviews' };
const SERVERS = [
  ['a current server', capabilitiesFor('24.8')],
  ['18.16', capabilitiesFor('18.16')],
] as const;

describe.each(SERVERS)('distributed layout SQL on %s', (_label, capabilities) => {
  const d = { capabilities, cluster: 'kiln_cluster' };

  it('puts a Distributed table over <name>_local on every node of the cluster', () => {
    expect(localRelation(rel)).toEqual({ database: 'analytics', name: 'fct_reviews_local' });
    expect(createDistributed(d, rel, { database: 'analytics', name: 'x_local' }, localRelation(rel), 'cityHash64(review_id)')).toBe(
      "CREATE TABLE `analytics`.`fct_reviews` ON CLUSTER `kiln_cluster` AS `analytics`.`x_local`\nENGINE = Distributed('kiln_cluster', 'analytics', 'fct_reviews_local', cityHash64(review_id))",
    );
  });

  it('shards by rand() when no sharding key is given', () => {
    expect(createDistributed(d, rel, rel, localRelation(rel), '  ')).toMatch(/'fct_reviews_local', rand\(\)\)$/);
  });

  it('reads the replicas per shard, and keeps rows by key with GLOBAL NOT IN', () => {
    expect(replicasPerShard(d)).toContain("WHERE cluster = 'kiln_cluster' GROUP BY shard_num");
    expect(keptRows(rel, ['id', 'v'])).toBe('SELECT `id`, `v` FROM `analytics`.`fct_reviews`');
    expect(keptRows(rel, ['id', 'v'], { keys: ['id'], fresh: { database: 'analytics', name: 'new' } })).toBe(
      'SELECT `id`, `v` FROM `analytics`.`fct_reviews` WHERE (`id`) GLOBAL NOT IN (SELECT `id` FROM `analytics`.`new`)',
    );
  });

  it('keeps the rows of the partitions the new rows do not touch (insert_overwrite), however partition_by is spelled', () => {
    const fresh = { database: 'analytics', name: 'new' };
    const head = 'SELECT `id`, `d` FROM `analytics`.`fct_reviews` WHERE ';
    expect(keptRows(rel, ['id', 'd'], { partitionBy: 'toYYYYMM(d)', fresh })).toBe(`${head}(toYYYYMM(d)) GLOBAL NOT IN (SELECT DISTINCT toYYYYMM(d) FROM \`analytics\`.\`new\`)`);
    for (const spelled of ['(toYYYYMM(d), kind)', 'toYYYYMM(d), kind', ['toYYYYMM(d)', 'kind']]) {
      expect(keptRows(rel, ['id', 'd'], { partitionBy: spelled, fresh })).toBe(`${head}(toYYYYMM(d), kind) GLOBAL NOT IN (SELECT DISTINCT toYYYYMM(d), kind FROM \`analytics\`.\`new\`)`);
    }
    // Parentheses that do not wrap the whole expression are kept.
    expect(keptRows(rel, ['id', 'd'], { partitionBy: '(a) + (b)', fresh })).toContain('WHERE ((a) + (b)) GLOBAL NOT IN (SELECT DISTINCT (a) + (b) FROM');
  });

  it("gives a shard's table a ZooKeeper path per shard on a replicated target", () => {
    const replicated = { ...d, replication: { zookeeperPath: '/clickhouse/kiln/{database}/{table}/{uuid}', replicaName: '{shard}-{replica}', uniqueId: () => 'u1' } };
    const local = { database: 'analytics', name: 'fct_reviews_local' };
    expect(createTable(shardContext(replicated), local, [{ name: 'id', type: 'UInt64' }], { order_by: 'id' })).toContain(
      "ENGINE = ReplicatedMergeTree('/clickhouse/kiln/analytics/fct_reviews_local/u1/{shard}', '{shard}-{replica}')",
    );
    const own = { ...replicated, replication: { ...replicated.replication, zookeeperPath: '/zk/{shard}/{table}/{uuid}' } };
    expect(shardContext(own)).toBe(own);
    expect(shardContext(d)).toBe(d);
  });

  it('inserts synchronously (never through the asynchronous spool)', () => {
    expect(SYNC_DISTRIBUTED_INSERT).toEqual({ insert_distributed_sync: 1 });
  });
});

describe('distributed scratch names', () => {
  it('are all leftovers of the model, so a killed run is cleaned up by the next', () => {
    const names = scratchNames(rel, 'r1');
    for (const r of Object.values(names)) expect(isLeftoverOf(r.name, 'fct_reviews')).toBe(true);
    expect(Object.values(names).map((r) => r.name)).toEqual([
      '__kiln_tmp__fct_reviews__r1',
      '__kiln_tmp__fct_reviews__r1_local',
      '__kiln_tmp__fct_reviews__r1_ins',
      '__kiln_old__fct_reviews__r1',
      '__kiln_old__fct_reviews__r1_local',
    ]);
  });
});

describe('distributed kinds', () => {
  const at = () => ({ file: 'models/m.sql', line: 1 });
  it('distributed_incremental takes append (default), delete_insert with a unique_key and insert_overwrite with partition_by; microbatch is refused with a hint', () => {
    expect(modelKindOf({ materialized: 'distributed_incremental' }, at)).toEqual({ materialized: 'distributed_incremental', strategy: 'append', uniqueKey: [], onSchemaChange: 'ignore' });
    expect(modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'delete+insert', unique_key: 'id' } as never, at)).toMatchObject({ strategy: 'delete_insert', uniqueKey: ['id'] });
    expect(() => modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'delete_insert' }, at)).toThrow(/needs a unique_key/);
    expect(modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'insert_overwrite', partition_by: 'toYYYYMM(d)' }, at)).toMatchObject({ strategy: 'insert_overwrite' });
    expect(() => modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'insert_overwrite' }, at)).toThrow("incremental_strategy 'insert_overwrite' needs partition_by");
    let refused: KilnError | undefined;
    try {
      modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'microbatch', event_time: 'ts', batch_size: 'day' } as never, at);
    } catch (err) {
      refused = err as KilnError;
    }
    expect(refused?.message).toBe("incremental_strategy 'microbatch' is not available for distributed_incremental");
    expect(refused?.code).toBe('CONFIG_INVALID');
    expect(refused?.location).toEqual({ file: 'models/m.sql', line: 1 });
    expect(refused?.hint).toMatch(/^use materialized='incremental' for microbatch/);
    expect(() => modelKindOf({ materialized: 'distributed_incremental', incremental_strategy: 'merge' } as never, at)).toThrow("incremental_strategy 'merge' is not available for distributed_incremental");
  });

  function compileErrors(targetExtra: string): KilnError[] {
    const dir = writeProject({
      'project.yml': `name: proj\ntarget: dev\ntargets:\n  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw${targetExtra} }\n`,
      'models/plain.sql': 'SELECT 1 AS id',
      'models/dist.sql': "-- sharded\n{{ config(materialized='distributed_table', sharding_key='id') }}\nSELECT 1 AS id",
    });
    try {
      compileProject(loadProject({ projectDir: dir, env: {} }), { invocationId: 'i', runStartedAt: new Date() });
    } catch (err) {
      if (err instanceof KilnErrors) return [...err.errors];
      return [err as KilnError];
    }
    return [];
  }

  it('outside a cluster target are exit 2 at the config line, with a hint', () => {
    const [error, ...rest] = compileErrors('');
    expect(rest).toEqual([]);
    expect(error).toBeInstanceOf(KilnError);
    expect(error!.code).toBe('CONFIG_INVALID');
    expect(error!.location).toEqual({ file: 'models/dist.sql', line: 2 });
    expect(error!.message).toBe("model 'dist' is materialized as distributed_table, which needs a cluster target; target 'dev' has no cluster");
    expect(error!.hint).toMatch(/^set cluster: <name from remote_servers> on the target/);
  });

  it('compile on a cluster target', () => {
    expect(compileErrors(', cluster: kiln_cluster')).toEqual([]);
  });
});
