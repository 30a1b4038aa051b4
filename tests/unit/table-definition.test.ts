import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import * as ddl from '../../src/adapters/ddl.js';
import { tableDefinitionOf, withoutNullable, type DefinitionInput } from '../../src/compile/table-definition.js';
import { KilnError, type Warning } from '../../src/errors.js';
import { contractDiff, unsupportedTableOption } from '../../src/materialize/defined-table.js';

const modern: ddl.DdlContext = { capabilities: capabilitiesFor('26.1.2.1') };
const t = { database: 'analytics', name: 'dim_user' };

describe('CREATE TABLE with column options and table elements (SQL text)', () => {
  it('puts CODEC before TTL on a column, then indexes, projections and checks, then the storage clause', () => {
    const sql = ddl.createTable(
      modern,
      t,
      [
        { name: 'id', type: 'UInt32' },
        { name: 'name', type: 'String', codec: 'Delta, ZSTD(3)', ttl: 'd + INTERVAL 1 DAY' },
        { name: 'd', type: 'Date', ttl: 'd + INTERVAL 1 YEAR' },
      ],
      { order_by: 'id', ttl: 'd + INTERVAL 2 YEAR' },
      {
        indexes: [{ name: 'idx_name', expression: 'name', type: 'bloom_filter(0.01)', granularity: 4 }, { name: 'idx d', expression: 'd', type: 'minmax' }],
        projections: [{ name: 'by_name', query: 'SELECT name, count() GROUP BY name;' }],
        checks: [{ name: 'id_check', expression: 'id > 0' }],
      },
    );
    expect(sql).toBe(
      [
        'CREATE TABLE `analytics`.`dim_user`',
        '(',
        '  `id` UInt32,',
        '  `name` String CODEC(Delta, ZSTD(3)) TTL d + INTERVAL 1 DAY,',
        '  `d` Date TTL d + INTERVAL 1 YEAR,',
        '  INDEX `idx_name` name TYPE bloom_filter(0.01) GRANULARITY 4,',
        '  INDEX `idx d` d TYPE minmax,',
        '  PROJECTION `by_name` (SELECT name, count() GROUP BY name),',
        '  CONSTRAINT `id_check` CHECK id > 0',
        ')',
        'ENGINE = MergeTree()',
        'ORDER BY id',
        'TTL d + INTERVAL 2 YEAR',
      ].join('\n'),
    );
  });

  it('typed empty rows create nothing: one arrayJoin of an empty array per column', () => {
    expect(ddl.emptyRows([{ name: 'a', type: 'UInt8' }, { name: 'b c', type: 'Nullable(String)' }])).toBe(
      'SELECT arrayJoin(CAST([] AS Array(UInt8))) AS `a`, arrayJoin(CAST([] AS Array(Nullable(String)))) AS `b c`',
    );
  });

  it('a type probe is an empty Memory table', () => {
    expect(ddl.createTypeProbe(modern, t, [{ name: 'a', type: 'decimal(18,2)' }])).toBe('CREATE TABLE `analytics`.`dim_user`\n(\n  `a` decimal(18,2)\n)\nENGINE = Memory');
  });
});

describe('contract diff', () => {
  it('lists, in the contract\'s order, missing columns and wrong types, then the extra columns', () => {
    const expected = [
      { name: 'id', type: 'UInt32' },
      { name: 'price', type: 'Decimal(18, 2)' },
      { name: 'name', type: 'String' },
    ];
    const actual = [
      { name: 'extra', type: 'UInt8' },
      { name: 'name', type: 'Nullable(String)' },
      { name: 'price', type: 'Decimal(18,2)' },
    ];
    expect(contractDiff(expected, actual)).toEqual([
      "'id' is missing from the model's SELECT (contract: UInt32)",
      "'name' is Nullable(String) in the model's SELECT, the contract says String",
      "'extra' (UInt8) is in the model's SELECT but not in the contract",
    ]);
  });

  it('is empty when names and types match, whatever the order', () => {
    expect(contractDiff([{ name: 'a', type: 'UInt8' }, { name: 'b', type: 'String' }], [{ name: 'b', type: 'String' }, { name: 'a', type: 'UInt8' }])).toEqual([]);
  });
});

describe('table definition at compile', () => {
  const at = { file: 'models/schema.yml', line: 3 };
  const input = (over: Partial<DefinitionInput>): DefinitionInput => ({
    modelName: 'm',
    materialized: 'table',
    config: { contract: { enforced: true } },
    columns: [],
    properties: at,
    locate: () => ({ file: 'models/m.sql' }),
    ...over,
  });
  const col = (name: string, extra: Record<string, unknown> = {}) => ({ name, data_tests: [], ...extra });

  it('not_null strips Nullable, check becomes a named CHECK, primary_key/unique warn as unenforced', () => {
    const warnings: Warning[] = [];
    const def = tableDefinitionOf(
      input({
        columns: [
          col('id', { data_type: 'Nullable(UInt32)', constraints: [{ type: 'not_null' }, { type: 'primary_key' }] }),
          col('score', { data_type: 'Float64', constraints: [{ type: 'check', expression: 'score >= 0' }, { type: 'check', name: 'small', expression: 'score < 10' }], codec: 'ZSTD' }),
          col('u', { data_type: 'String', constraints: [{ type: 'unique', warn_unenforced: false }] }),
        ],
      }),
      warnings,
    );
    expect(def?.contract).toEqual([
      { name: 'id', type: 'UInt32' },
      { name: 'score', type: 'Float64', codec: 'ZSTD' },
      { name: 'u', type: 'String' },
    ]);
    expect(def?.elements.checks).toEqual([
      { name: 'score_check', expression: 'score >= 0' },
      { name: 'small', expression: 'score < 10' },
    ]);
    expect(warnings.map((w) => w.message)).toEqual(["constraint 'primary_key' on column 'id' of model 'm' is not enforced by ClickHouse"]);
    expect(withoutNullable(' Nullable( LowCardinality(String) ) ')).toBe('LowCardinality(String)');
  });

  it('reads indexes in both spellings and projections', () => {
    const def = tableDefinitionOf(
      input({
        config: {
          indexes: [{ name: 'a', definition: 'lower(name) TYPE tokenbf_v1(512, 3, 0) GRANULARITY 2' }, { name: 'b', expression: 'id', type: 'minmax' }],
          projections: [{ name: 'p', query: 'SELECT id ORDER BY id' }],
        },
      }),
      [],
    );
    expect(def).toEqual({
      columnOptions: {},
      elements: {
        indexes: [{ name: 'a', expression: 'lower(name)', type: 'tokenbf_v1(512, 3, 0)', granularity: 2 }, { name: 'b', expression: 'id', type: 'minmax' }],
        projections: [{ name: 'p', query: 'SELECT id ORDER BY id' }],
        checks: [],
      },
    });
  });

  it('a contract on a snapshot is an error at the config line, as dbt has none there; its table options are ignored with a warning', () => {
    expect(() => tableDefinitionOf(input({ materialized: 'snapshot', columns: [col('a', { data_type: 'UInt8' })] }), [])).toThrow(
      "snapshot 'm' cannot have an enforced contract: contracts apply to models (table, view, incremental, materialized_view), not snapshots",
    );
    const warnings: Warning[] = [];
    expect(tableDefinitionOf(input({ materialized: 'snapshot', config: {}, columns: [col('a', { codec: 'ZSTD' })] }), warnings)).toBeUndefined();
    expect(warnings.map((w) => w.message)).toEqual(["contracts and table options are not supported for snapshot 'm' (ignored)"]);
  });

  it('a microbatch model and a materialized_view\'s target take the contract and options as a table does', () => {
    const columns = [col('a', { data_type: 'UInt8', codec: 'ZSTD' })];
    const config = { contract: { enforced: true }, indexes: [{ name: 'i', expression: 'a', type: 'minmax' }] };
    const expected = { contract: [{ name: 'a', type: 'UInt8', codec: 'ZSTD' }], columnOptions: {}, elements: { indexes: [{ name: 'i', expression: 'a', type: 'minmax' }], projections: [], checks: [] } };
    const micro: Warning[] = [];
    expect(tableDefinitionOf(input({ materialized: 'incremental', config: { ...config, incremental_strategy: 'microbatch' } as unknown as DefinitionInput['config'], columns }), micro)).toEqual(expected);
    const mv: Warning[] = [];
    expect(tableDefinitionOf(input({ materialized: 'materialized_view', config: config as unknown as DefinitionInput['config'], columns }), mv)).toEqual(expected);
    expect([...micro, ...mv]).toEqual([]);
  });

  it('the distributed kinds take the contract and options as a table does (for their <name>_local), without a warning', () => {
    const columns = [col('a', { data_type: 'Nullable(UInt8)', codec: 'ZSTD', constraints: [{ type: 'not_null' }, { type: 'check', expression: 'a > 0' }] })];
    const config = { contract: { enforced: true }, projections: [{ name: 'p', query: 'SELECT a ORDER BY a' }] };
    const expected = { contract: [{ name: 'a', type: 'UInt8', codec: 'ZSTD' }], columnOptions: {}, elements: { indexes: [], projections: [{ name: 'p', query: 'SELECT a ORDER BY a' }], checks: [{ name: 'a_check_2', expression: 'a > 0' }] } };
    for (const materialized of ['distributed_table', 'distributed_incremental']) {
      const warnings: Warning[] = [];
      expect(tableDefinitionOf(input({ materialized, config: config as unknown as DefinitionInput['config'], columns }), warnings)).toEqual(expected);
      expect(warnings).toEqual([]);
    }
  });

  it('has nothing to say about a model without these options', () => {
    expect(tableDefinitionOf(input({ config: {} , columns: [col('a', { data_type: 'UInt8' })] }), [])).toBeUndefined();
  });

  it('rejects what it cannot build, pointing at the properties', () => {
    const error = (over: Partial<DefinitionInput>) => {
      try {
        tableDefinitionOf(input(over), []);
      } catch (err) {
        return err instanceof KilnError ? `${err.location?.file}:${err.location?.line ?? ''} ${err.message}` : String(err);
      }
      return 'no error';
    };
    expect(error({ columns: [col('a')] })).toBe("models/schema.yml:3 model 'm' has an enforced contract but column 'a' has no data_type");
    expect(error({ columns: [] })).toBe("models/schema.yml:3 model 'm' has an enforced contract but declares no columns");
    expect(error({ materialized: 'ephemeral', columns: [col('a', { data_type: 'UInt8' })] })).toBe("models/m.sql: model 'm' is ephemeral and cannot have an enforced contract");
    expect(error({ config: { contract: true } })).toBe("models/m.sql: config 'contract' must be a mapping like {enforced: true}");
    expect(error({ config: { indexes: [{ name: 'i', definition: 'a minmax' }] } })).toBe("models/m.sql: index 'i' has a definition without TYPE: 'a minmax'");
    expect(error({ config: { projections: [{ name: 'p' }] } })).toBe("models/m.sql: projection 'p' needs a 'query'");
  });
});

describe('table options a server lacks', () => {
  const old = capabilitiesFor('18.16.1');
  const def = (over: object) => ({ columnOptions: {}, elements: { indexes: [], projections: [], checks: [] }, ...over });
  it('names the option and the first version that has it', () => {
    expect(unsupportedTableOption(def({ columnOptions: { a: { codec: 'ZSTD' } } }), {}, old)).toEqual({ option: 'column codec', since: '19.1' });
    expect(unsupportedTableOption(undefined, { ttl: 'd + INTERVAL 1 DAY' }, old)).toEqual({ option: 'ttl', since: '19.6' });
    expect(unsupportedTableOption(def({ contract: [{ name: 'a', type: 'Date', ttl: 'a + INTERVAL 1 DAY' }] }), {}, old)).toEqual({ option: 'column ttl', since: '19.6' });
    expect(unsupportedTableOption(def({ elements: { indexes: [{ name: 'i', expression: 'a', type: 'minmax' }], projections: [], checks: [] } }), {}, old)?.since).toBe('19.3');
    expect(unsupportedTableOption(def({ elements: { indexes: [], projections: [{ name: 'p', query: 'SELECT a' }], checks: [] } }), {}, capabilitiesFor('21.3.1'))).toEqual({ option: 'projections', since: '21.6' });
    expect(unsupportedTableOption(def({ elements: { indexes: [], projections: [], checks: [{ name: 'c', expression: '1' }] } }), {}, old)).toEqual({ option: 'check constraints', since: '19.14' });
  });
  it('a contract with types only needs nothing new', () => {
    expect(unsupportedTableOption(def({ contract: [{ name: 'a', type: 'UInt8' }] }), {}, old)).toBeUndefined();
    const now = capabilitiesFor('26.1.2.1');
    expect(unsupportedTableOption(def({ columnOptions: { a: { codec: 'ZSTD', ttl: 'x' } }, elements: { indexes: [{ name: 'i', expression: 'a', type: 'minmax' }], projections: [{ name: 'p', query: 'q' }], checks: [{ name: 'c', expression: '1' }] } }), { ttl: 'x' }, now)).toBeUndefined();
  });
  it('skipping indexes need their experimental setting only between 19.3 and 20.1', () => {
    const experimental = (v: string) => capabilitiesFor(v).skippingIndexes && !capabilitiesFor(v).stableSkippingIndexes;
    expect(experimental('19.16.3')).toBe(true);
    expect(experimental('19.3.3')).toBe(true);
    expect(experimental('19.2.1')).toBe(false);
    expect(experimental('20.1.2')).toBe(false);
    expect(experimental('18.16.1')).toBe(false);
  });
});
