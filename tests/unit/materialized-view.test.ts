import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as ddl from '../../src/adapters/ddl.js';
import { materializedViewName, materializedViewParts } from '../../src/compile/materialized-view-parts.js';
import { KilnError } from '../../src/errors.js';

const where = { file: 'models/m.sql' };

describe('materialized_view parts', () => {
  it('a model without markers is one view, <model>_mv', () => {
    const parts = materializedViewParts('SELECT a FROM t', where);
    expect(parts).toEqual([{ suffix: 'mv', sql: 'SELECT a FROM t' }]);
    expect(materializedViewName('daily', parts[0]!)).toBe('daily_mv');
  });

  it('--<name>:begin/end blocks joined by UNION ALL are one view each, <model>_<name>', () => {
    const sql = `-- totals from two sources
--orders:begin
SELECT sku, qty FROM raw.orders
--orders:end
UNION ALL
-- returns count negative
--returns:begin
SELECT sku, -qty FROM raw.returns
--returns:end
`;
    const parts = materializedViewParts(sql, where);
    expect(parts).toEqual([
      { suffix: 'orders', sql: 'SELECT sku, qty FROM raw.orders' },
      { suffix: 'returns', sql: 'SELECT sku, -qty FROM raw.returns' },
    ]);
    expect(parts.map((p) => materializedViewName('net', p))).toEqual(['net_orders', 'net_returns']);
  });

  const failure = (sql: string): KilnError => {
    try {
      materializedViewParts(sql, where, sql);
    } catch (err) {
      return err as KilnError;
    }
    throw new Error('no error');
  };

  it('rejects unbalanced, repeated and misplaced markers with the line of the marker', () => {
    const open = failure('SELECT 1\n--a:begin\nSELECT 2\n');
    expect(open).toBeInstanceOf(KilnError);
    expect(open.code).toBe('CONFIG_INVALID');
    expect(open.message).toBe("'--a:begin' is not closed by '--a:end'");
    expect(open.location).toEqual({ file: 'models/m.sql', line: 2 });
    expect(failure('--a:end\nSELECT 1\n').message).toBe("'--a:end' has no '--a:begin' before it");
    expect(failure('--a:begin\nSELECT 1\n--a:end\nUNION ALL\n--a:begin\nSELECT 2\n--a:end\n').message).toBe("two views are named 'a'");
    expect(failure('SELECT 0\nUNION ALL\n--a:begin\nSELECT 1\n--a:end\n').message).toBe('SQL outside the --<name>:begin/end blocks');
    expect(failure('--a:begin\nSELECT 1\n--a:end\nUNION ALL SELECT 3\n').message).toBe('SQL after the last --<name>:end');
  });
});

describe('materialized view DDL', () => {
  const d = { capabilities: capabilitiesFor('24.8') };
  const view = { database: 'analytics', name: 'daily_mv' };
  const target = { database: 'analytics', name: 'daily' };

  it('creates the view TO the table and modifies its query in one statement', () => {
    expect(ddl.createMaterializedView(d, view, target, 'SELECT 1;')).toBe('CREATE MATERIALIZED VIEW `analytics`.`daily_mv` TO `analytics`.`daily` AS\nSELECT 1');
    expect(ddl.modifyMaterializedViewQuery({ ...d, cluster: 'c' }, view, 'SELECT 2')).toBe('ALTER TABLE `analytics`.`daily_mv` ON CLUSTER `c` MODIFY QUERY\nSELECT 2');
  });

  it('reads the SELECT out of SHOW CREATE as 18.16 and current servers format it', () => {
    const old = 'CREATE MATERIALIZED VIEW t.tgt_mv TO t.tgt ( a Int32,  n Nullable(UInt64)) AS SELECT a, count() AS n FROM t.src  GROUP BY a';
    const oldView = 'CREATE VIEW t.v ( a Int32,  n Nullable(UInt64)) AS SELECT a, count() AS n FROM t.src  GROUP BY a';
    expect(ddl.selectOfCreate(old)).toBe('SELECT a, count() AS n FROM t.src GROUP BY a');
    expect(ddl.selectOfCreate(oldView)).toBe(ddl.selectOfCreate(old));
    const current = 'CREATE MATERIALIZED VIEW t.tgt_mv TO t.tgt\n(\n    `a` Int32,\n    `n` UInt64\n)\nAS SELECT\n    a,\n    count() AS n\nFROM t.src\nGROUP BY a';
    expect(ddl.selectOfCreate(current)).toBe('SELECT a, count() AS n FROM t.src GROUP BY a');
    expect(ddl.selectOfCreate('CREATE VIEW t.v AS SELECT 1')).toBe('SELECT 1');
  });

  it('tells which table a view writes to', () => {
    expect(ddl.createWritesTo('CREATE MATERIALIZED VIEW analytics.daily_x TO analytics.daily (a Int32) AS SELECT 1', target)).toBe(true);
    expect(ddl.createWritesTo('CREATE MATERIALIZED VIEW analytics.daily_x TO analytics.daily_other (a Int32) AS SELECT 1', target)).toBe(false);
    expect(ddl.createWritesTo('CREATE MATERIALIZED VIEW `analytics`.`daily_x` TO `analytics`.`daily`\n(\n`a` Int32\n)\nAS SELECT 1', target)).toBe(true);
  });

  it('MODIFY QUERY is a capability of 21.12 and later', () => {
    expect(capabilitiesFor('18.16.1').alterMaterializedViewQuery).toBe(false);
    expect(capabilitiesFor('21.12.2').alterMaterializedViewQuery).toBe(true);
  });
});
