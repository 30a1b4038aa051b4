import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as ddl from '../../src/adapters/ddl.js';
import { tableOptions } from '../../src/materialize/materialization.js';

const modern: ddl.DdlContext = { capabilities: capabilitiesFor('26.1.2.1') };
const clustered: ddl.DdlContext = { capabilities: capabilitiesFor('26.1.2.1'), cluster: 'prod' };
const t = { database: 'analytics', name: 'dim_user' };
const tmp = { database: 'analytics', name: '__kiln_tmp__dim_user__abc' };

describe('capabilities', () => {
  it('18.16 has none of the newer features; a current server has all', () => {
    const old = capabilitiesFor('18.16.1');
    expect(Object.values(old).every((v) => v === false)).toBe(true);
    const now = capabilitiesFor('26.1.2.1');
    expect(Object.values(now).every((v) => v === true)).toBe(true);
    expect(capabilitiesFor('21.1.0').exchangeTables).toBe(true);
    expect(capabilitiesFor('20.12.3').exchangeTables).toBe(false);
    expect(capabilitiesFor('20.8.1').createOrReplaceView).toBe(true);
  });
});

describe('storage clause', () => {
  it('defaults to MergeTree() ORDER BY tuple()', () => {
    expect(ddl.storageClause({})).toBe('ENGINE = MergeTree()\nORDER BY tuple()');
  });

  it('puts every option in the order ClickHouse (also 18.16) accepts', () => {
    expect(
      ddl.storageClause({
        engine: 'ReplacingMergeTree(version)',
        partition_by: 'toYYYYMM(created_at)',
        order_by: ['content_id', 'created_at'],
        primary_key: 'content_id',
        ttl: 'created_at + INTERVAL 1 YEAR',
        settings: { index_granularity: 1024, storage_policy: 'default', allow_nullable_key: true },
      }),
    ).toBe(
      [
        'ENGINE = ReplacingMergeTree(version)',
        'PARTITION BY toYYYYMM(created_at)',
        'ORDER BY (content_id, created_at)',
        'PRIMARY KEY content_id',
        'TTL created_at + INTERVAL 1 YEAR',
        "SETTINGS index_granularity = 1024, storage_policy = 'default', allow_nullable_key = 1",
      ].join('\n'),
    );
  });

  it('adds () to a bare engine name and leaves ORDER BY out for engines without one', () => {
    expect(ddl.storageClause({ engine: 'AggregatingMergeTree' })).toBe('ENGINE = AggregatingMergeTree()\nORDER BY tuple()');
    expect(ddl.storageClause({ engine: 'Memory', order_by: 'id' })).toBe('ENGINE = Memory()');
    expect(ddl.storageClause({ engine: 'Log' })).toBe('ENGINE = Log()');
  });

  it('turns key lists and comma-separated strings into tuples', () => {
    expect(ddl.storageClause({ order_by: ['id'] })).toContain('ORDER BY id');
    expect(ddl.storageClause({ order_by: 'id, day' })).toContain('ORDER BY (id, day)');
    expect(ddl.storageClause({ order_by: '(id, day)' })).toContain('ORDER BY (id, day)');
    expect(ddl.storageClause({ order_by: 'cityHash64(a, b)' })).toContain('ORDER BY cityHash64(a, b)');
    expect(ddl.storageClause({ order_by: [] })).toContain('ORDER BY tuple()');
    expect(ddl.storageClause({ partition_by: ['toYYYYMM(d)', 'kind'] })).toContain('PARTITION BY (toYYYYMM(d), kind)');
    expect(ddl.storageClause({ partition_by: [] })).not.toContain('PARTITION BY');
    expect(ddl.storageClause({ primary_key: 'a, b', order_by: 'a, b, c' })).toContain('ORDER BY (a, b, c)\nPRIMARY KEY (a, b)');
  });

  it('tableOptions keeps only the storage keys of a model config', () => {
    expect(tableOptions({ materialized: 'table', engine: 'Log', order_by: 'id', tags: ['x'], ttl: 'd + 1', settings: { a: 1 } })).toEqual({
      engine: 'Log',
      order_by: 'id',
      ttl: 'd + 1',
      settings: { a: 1 },
    });
  });
});

describe('statements', () => {
  it('CREATE TABLE … AS SELECT, without the trailing semicolon', () => {
    expect(ddl.createTableAs(modern, tmp, 'SELECT 1 AS id;\n', { order_by: 'id' })).toBe(
      'CREATE TABLE `analytics`.`__kiln_tmp__dim_user__abc`\nENGINE = MergeTree()\nORDER BY id\nAS SELECT 1 AS id',
    );
  });

  it('CREATE TABLE with columns, and an empty table shaped like a query', () => {
    expect(ddl.createTable(modern, t, [{ name: 'id', type: 'UInt32' }, { name: 'the name', type: 'Nullable(String)' }], {})).toBe(
      'CREATE TABLE `analytics`.`dim_user`\n(\n  `id` UInt32,\n  `the name` Nullable(String)\n)\nENGINE = MergeTree()\nORDER BY tuple()',
    );
    expect(ddl.createTableLike(modern, t, 'SELECT 1 AS id', { engine: 'Memory' })).toBe(
      'CREATE TABLE `analytics`.`dim_user`\nENGINE = Memory()\nAS SELECT * FROM (\nSELECT 1 AS id\n) LIMIT 0',
    );
  });

  it('views, inserts, renames, exchanges, drops', () => {
    expect(ddl.createView(modern, t, 'SELECT 1', { orReplace: true })).toBe('CREATE OR REPLACE VIEW `analytics`.`dim_user` AS\nSELECT 1');
    expect(ddl.createView(modern, t, 'SELECT 1', { orReplace: false })).toBe('CREATE VIEW `analytics`.`dim_user` AS\nSELECT 1');
    expect(ddl.insertSelect(t, 'SELECT 1;', ['id'])).toBe('INSERT INTO `analytics`.`dim_user` (`id`)\nSELECT 1');
    expect(ddl.exchangeTables(modern, tmp, t)).toBe('EXCHANGE TABLES `analytics`.`__kiln_tmp__dim_user__abc` AND `analytics`.`dim_user`');
    expect(ddl.renameTables(modern, [[t, { database: 'analytics', name: 'old' }], [tmp, t]])).toBe(
      'RENAME TABLE `analytics`.`dim_user` TO `analytics`.`old`, `analytics`.`__kiln_tmp__dim_user__abc` TO `analytics`.`dim_user`',
    );
    // DROP TABLE, not DROP VIEW: 18.16 has no DROP VIEW and DROP TABLE drops views everywhere
    expect(ddl.dropRelation(modern, t)).toBe('DROP TABLE IF EXISTS `analytics`.`dim_user`');
    expect(ddl.createDatabase(modern, 'analytics')).toBe('CREATE DATABASE IF NOT EXISTS `analytics`');
    expect(ddl.countRows(t)).toBe('SELECT count() AS n FROM `analytics`.`dim_user`');
  });

  it('quotes identifiers with backticks and escapes them', () => {
    expect(ddl.rel({ database: 'a`b', name: 'c\\d' })).toBe('`a\\`b`.`c\\\\d`');
  });

  it('threads ON CLUSTER through every DDL statement', () => {
    const statements = [
      ddl.createDatabase(clustered, 'analytics'),
      ddl.createTableAs(clustered, t, 'SELECT 1', {}),
      ddl.createTableLike(clustered, t, 'SELECT 1', {}),
      ddl.createTable(clustered, t, [{ name: 'id', type: 'UInt8' }], {}),
      ddl.createView(clustered, t, 'SELECT 1', { orReplace: true }),
      ddl.exchangeTables(clustered, tmp, t),
      ddl.renameTables(clustered, [[tmp, t]]),
      ddl.dropRelation(clustered, t),
    ];
    for (const sql of statements) expect(sql.match(/ ON CLUSTER `prod`/g), sql).toHaveLength(1);
    expect(ddl.createTableAs(clustered, t, 'SELECT 1', {}).split('\n')[0]).toBe('CREATE TABLE `analytics`.`dim_user` ON CLUSTER `prod`');
    expect(ddl.createView(clustered, t, 'SELECT 1', { orReplace: false })).toBe('CREATE VIEW `analytics`.`dim_user` ON CLUSTER `prod` AS\nSELECT 1');
    expect(ddl.renameTables(clustered, [[tmp, t]])).toBe('RENAME TABLE `analytics`.`__kiln_tmp__dim_user__abc` TO `analytics`.`dim_user` ON CLUSTER `prod`');
    expect(ddl.dropRelation(clustered, t)).toBe('DROP TABLE IF EXISTS `analytics`.`dim_user` ON CLUSTER `prod`');
    expect(ddl.createDatabase(modern, 'x')).not.toContain('ON CLUSTER');
  });
});

describe('the one INSERT builder', () => {
  it('rows after FORMAT (a request body, or inline), from a local file, or from a query', () => {
    expect(ddl.insertInto(t, ['id', 'the name'], { format: 'JSONEachRow' })).toBe('INSERT INTO `analytics`.`dim_user` (`id`, `the name`) FORMAT JSONEachRow');
    expect(ddl.insertInto(t, [], { format: 'CSV', inline: '1\n2' })).toBe('INSERT INTO `analytics`.`dim_user` FORMAT CSV\n1\n2');
    expect(ddl.insertInto(t, ['id'], { file: "/tmp/it's.tsv", format: 'TabSeparated' })).toBe(
      "INSERT INTO `analytics`.`dim_user` (`id`) SELECT * FROM file('/tmp/it\\'s.tsv', 'TabSeparated')",
    );
    expect(ddl.insertInto(t, undefined, { file: '/d/s.csv', format: 'CSVWithNames', structure: '`a` String' })).toBe(
      "INSERT INTO `analytics`.`dim_user` SELECT * FROM file('/d/s.csv', 'CSVWithNames', '`a` String')",
    );
    expect(ddl.insertInto(t, ['id'], { select: 'SELECT 1;\n' })).toBe('INSERT INTO `analytics`.`dim_user` (`id`)\nSELECT 1');
    expect(ddl.insertSelectColumns(t, 'SELECT 1 AS id, 2 AS x', ['id'])).toBe('INSERT INTO `analytics`.`dim_user` (`id`)\nSELECT `id` FROM (\nSELECT 1 AS id, 2 AS x\n)');
  });

  it('describes a local file, and adds SETTINGS for the in-process engine', () => {
    expect(ddl.describeFile('/d/s.csv', 'CSVWithNames')).toBe("DESCRIBE file('/d/s.csv', 'CSVWithNames')");
    expect(ddl.withSettings('SELECT 1;', { max_threads: 2, format_csv_delimiter: ';' })).toBe("SELECT 1\nSETTINGS max_threads = 2, format_csv_delimiter = ';'");
    expect(ddl.withSettings('SELECT 1', {})).toBe('SELECT 1');
  });
});

describe('operations as text', () => {
  it('deletes with a lightweight DELETE where the server has one, else a mutation it waits for', () => {
    const old: ddl.DdlContext = { capabilities: capabilitiesFor('18.16.1') };
    // A statement on rows runs on the node kiln talks to (see onCluster): Replicated tables pass it on.
    expect(ddl.deleteWhere(clustered, t, 'id = 1')).toBe('DELETE FROM `analytics`.`dim_user` WHERE id = 1');
    expect(ddl.deleteWhere(old, t, 'id = 1')).toBe('ALTER TABLE `analytics`.`dim_user` DELETE WHERE id = 1');
    expect(ddl.pendingMutations(t)).toBe("SELECT count() AS n FROM system.mutations WHERE database = 'analytics' AND table = 'dim_user' AND is_done = 0");
  });

  it('replaces a partition by id from a table of the same structure', () => {
    expect(ddl.replacePartitionFrom(modern, t, '202401', tmp)).toBe(
      "ALTER TABLE `analytics`.`dim_user` REPLACE PARTITION ID '202401' FROM `analytics`.`__kiln_tmp__dim_user__abc`",
    );
  });
});
