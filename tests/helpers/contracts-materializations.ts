import { expect } from 'vitest';
import { allOutput, STACK_FRAME, writeFiles, type KilnResult, type ProjectFiles } from './kiln-cli.js';
import { D0 } from './microbatch-project.js';

/**
 * Contracts and table options on a microbatch model and a materialized_view's target, and a
 * contract on a snapshot, shared by the embedded and server suites. Both tables read a table
 * model whose types nothing declares, so their contracts are checked when they build (before the
 * swap), not before the run.
 */

export type ReadRows = (sql: string) => Promise<Array<Record<string, unknown>>>;

const RAW = `{{ config(materialized='table', order_by='ts') }}
SELECT toDateTime('${D0} 10:00:00', 'UTC') + toIntervalHour(number * 12) AS ts, toUInt32(number) AS user_id FROM numbers(5)`;

const mbSql = (userId: string) => `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='day', begin='${D0}', order_by='ts') }}
SELECT ts, ${userId} AS user_id FROM {{ ref('raw_events') }}`;

const mvSql = (userId: string) => `{{ config(materialized='materialized_view', order_by='ts') }}
SELECT ts, ${userId} AS user_id FROM {{ ref('raw_events') }}`;

/** The YAML of both models; `options` adds a codec, a table TTL, a skipping index and a projection to each. */
function schemaYml(types: { readonly mb: string; readonly mv: string }, options: boolean): string {
  const model = (name: string, type: string) => `  - name: ${name}
    config:
      contract: {enforced: true}
${options ? "      ttl: ts + INTERVAL 50 YEAR\n      indexes: [{name: idx_user, expression: user_id, type: minmax, granularity: 1}]\n      projections: [{name: by_user, query: 'SELECT user_id, ts ORDER BY user_id'}]\n" : ''}    columns:
      - {name: user_id, data_type: "Nullable(${type})", constraints: [{type: not_null}]${options ? ', codec: ZSTD' : ''}}
      - {name: ts, data_type: "DateTime('UTC')"}
`;
  return `models:\n${model('mb', types.mb)}${model('mv', types.mv)}`;
}

export function contractMaterializationFiles(options: boolean): ProjectFiles {
  return {
    'models/raw_events.sql': RAW,
    'models/mb.sql': mbSql('user_id'),
    'models/mv.sql': mvSql('user_id'),
    'models/schema.yml': schemaYml({ mb: 'UInt32', mv: 'UInt32' }, options),
  };
}

const ok = (r: KilnResult) => expect(r.code, allOutput(r)).toBe(0);

export async function contractMaterializationScenario(dir: string, db: string, options: boolean, kiln: (args: string[]) => Promise<KilnResult>, read: ReadRows): Promise<void> {
  const columns = async (table: string) => (await read(`SELECT name, type FROM system.columns WHERE database = '${db}' AND table = '${table}'`)).map((c) => `${c.name} ${c.type}`);
  const count = async (table: string) => Number((await read(`SELECT count() AS n FROM ${db}.${table}`))[0]!.n);
  const leftovers = async () => (await read(`SELECT name FROM system.tables WHERE database = '${db}' AND name LIKE '__kiln_%'`)).map((r) => r.name);
  const createSql = async (table: string) => String((await read(`SHOW CREATE TABLE ${db}.${table}`))[0]!.statement);

  // Both tables take the contract's columns, order and non-Nullable types, and (where the server has them) the options.
  ok(await kiln(['run']));
  for (const table of ['mb', 'mv']) {
    expect(await columns(table), table).toEqual(['user_id UInt32', "ts DateTime('UTC')"]);
    expect(await count(table), table).toBe(5);
    if (options) {
      const ddl = await createSql(table);
      expect(ddl).toMatch(/`user_id` UInt32 CODEC\(ZSTD/);
      expect(ddl).toMatch(/INDEX idx_user user_id TYPE minmax GRANULARITY 1/);
      expect(ddl).toMatch(/PROJECTION by_user/);
      expect(ddl).toMatch(/TTL ts \+ (toIntervalYear\(50\)|INTERVAL 50 YEAR)/);
    }
  }
  // A later microbatch run replaces its batches through scratch copies of that table.
  ok(await kiln(['run', '-s', 'mb']));
  expect(await count('mb')).toBe(5);

  // A SELECT that breaks the contract fails before the swap: exit 1, the diff, both tables as they were.
  writeFiles(dir, { 'models/mb.sql': mbSql('toInt64(user_id)'), 'models/mv.sql': mvSql('toInt64(user_id)') });
  const broken = await kiln(['run', '-s', 'mb mv']);
  expect(broken.code, allOutput(broken)).toBe(1);
  expect(allOutput(broken)).toMatch(/models\/mb\.sql: the model's columns do not match its enforced contract: 'user_id' is Int64 in the model's SELECT, the contract says UInt32/);
  expect(allOutput(broken)).toMatch(/models\/mv\.sql: the model's columns do not match its enforced contract: 'user_id' is Int64 in the model's SELECT, the contract says UInt32/);
  expect(allOutput(broken)).not.toMatch(STACK_FRAME);
  for (const table of ['mb', 'mv']) expect(await count(table), table).toBe(5);
  expect(await leftovers()).toEqual([]);

  // A changed contract: the view's target is rebuilt to it; the microbatch table, like any incremental one, needs --full-refresh.
  writeFiles(dir, { 'models/mb.sql': mbSql('toUInt64(user_id)'), 'models/mv.sql': mvSql('toUInt64(user_id)'), 'models/schema.yml': schemaYml({ mb: 'UInt64', mv: 'UInt64' }, options) });
  ok(await kiln(['run', '-s', 'mv']));
  expect(await columns('mv')).toEqual(['user_id UInt64', "ts DateTime('UTC')"]);
  expect(await count('mv')).toBe(5);
  const stale = await kiln(['run', '-s', 'mb']);
  expect(stale.code, allOutput(stale)).toBe(1);
  expect(allOutput(stale)).toContain(`the existing table ${db}.mb does not match the model's enforced contract: 'user_id' is UInt32 in the table, the contract says UInt64`);
  expect(allOutput(stale)).toMatch(/--full-refresh/);
  ok(await kiln(['run', '-s', 'mb', '--full-refresh']));
  expect(await columns('mb')).toEqual(['user_id UInt64', "ts DateTime('UTC')"]);
  expect(await count('mb')).toBe(5);
  expect(await leftovers()).toEqual([]);
}

/** A snapshot with an enforced contract: dbt has no contracts on snapshots, so it is exit 2 at the config line. */
export const SNAPSHOT_CONTRACT_FILES: ProjectFiles = {
  'models/users.sql': "{{ config(materialized='table') }}SELECT toUInt32(1) AS id, 'a' AS role",
  'snapshots/users_snap.sql': `{% snapshot users_snap %}
{{ config(unique_key='id', strategy='check', check_cols='all',
          contract={'enforced': true}) }}
SELECT * FROM {{ ref('users') }}
{% endsnapshot %}
`,
};

export function expectSnapshotContractRefused(r: KilnResult): void {
  expect(r.code, allOutput(r)).toBe(2);
  expect(allOutput(r)).toMatch(/snapshots\/users_snap\.sql:3: snapshot 'users_snap' cannot have an enforced contract: contracts apply to models \(table, view, incremental, materialized_view\), not snapshots/);
  expect(allOutput(r)).not.toMatch(STACK_FRAME);
}
