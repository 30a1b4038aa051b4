import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as shadow from '../../src/adapters/shadow-sql.js';

/** Validation's shadow database (issue 16) as SQL text, per server generation. */
const modern = { capabilities: capabilitiesFor('26.1.2.1'), cluster: 'prod' };
const old = { capabilities: capabilitiesFor('18.16.1') };
const target = { database: '_kiln_validate_abc', name: 'analytics.dim' };

describe('shadow SQL', () => {
  it('a current server gets a Memory database and one CREATE … EMPTY AS, never ON CLUSTER', () => {
    expect(shadow.createShadowDatabase(modern, '_kiln_validate_abc')).toBe('CREATE DATABASE `_kiln_validate_abc` ENGINE = Memory');
    expect(shadow.checkTableAs(modern, target, 'SELECT 1 AS id;', { order_by: 'id' })).toEqual([
      'CREATE TABLE `_kiln_validate_abc`.`analytics.dim`\nENGINE = MergeTree()\nORDER BY id\nEMPTY AS SELECT 1 AS id',
    ]);
  });

  it('18.16 gets an ordinary database, and a view of the SELECT plus a table of its columns (nothing runs)', () => {
    expect(shadow.createShadowDatabase(old, '_kiln_validate_abc')).toBe('CREATE DATABASE `_kiln_validate_abc`');
    expect(shadow.checkTableAs(old, target, 'SELECT 1 AS id', { order_by: 'id', partition_by: 'id' })).toEqual([
      'CREATE VIEW `_kiln_validate_abc`.`analytics.dim#select` AS\nSELECT 1 AS id',
      'CREATE TABLE `_kiln_validate_abc`.`analytics.dim` AS `_kiln_validate_abc`.`analytics.dim#select`\nENGINE = MergeTree()\nPARTITION BY id\nORDER BY id',
    ]);
  });

  it('stand-ins are empty Memory tables; hooks are parsed with EXPLAIN AST; names are per run', () => {
    expect(shadow.createStandIn(target, [{ name: 'id', type: 'UInt32' }, { name: 'order date', type: 'Nullable(Date)' }])).toBe(
      'CREATE TABLE `_kiln_validate_abc`.`analytics.dim` (`id` UInt32, `order date` Nullable(Date)) ENGINE = Memory',
    );
    expect(shadow.parseOnly('OPTIMIZE TABLE t FINAL;')).toBe('EXPLAIN AST OPTIMIZE TABLE t FINAL');
    expect(shadow.shadowDatabaseName('3d57a60e-2e4e')).toBe('_kiln_validate_3d57a60e_2e4e');
  });

  it('messages name the real relations, not their stand-ins', () => {
    expect(shadow.withRealNames('Missing x in scope SELECT x FROM _kiln_validate_1d3f.`analytics.a` JOIN `_kiln_validate_1d3f`.`raw.shop__orders`')).toBe(
      'Missing x in scope SELECT x FROM analytics.a JOIN raw.shop__orders',
    );
  });

  it('a syntax error at a stand-in names the real database as the token it failed at', () => {
    expect(shadow.withRealNames("Syntax error: failed at '`_kiln_validate_7d3b`': `_kiln_validate_7d3b`.`analytics.dim_content`. Expected one of: FROM")).toBe(
      "Syntax error: failed at '`analytics`': analytics.dim_content. Expected one of: FROM",
    );
  });
});
