import { expect } from 'vitest';
import { writeFiles, type KilnResult } from './kiln-cli.js';

/**
 * The snapshot scenario shared by the embedded and server suites: a users seed in three versions
 * and snapshots of it in each strategy, with the history each version must leave.
 */

/** Version 1: three users. */
export const USERS_V1 = `id,region,role,updated_at
1,eu,user,2020-01-01 00:00:00
2,eu,critic,2020-01-01 00:00:00
3,us,user,2020-01-01 00:00:00
`;
/** Version 2: user 1 becomes admin, user 3 is deleted, user 4 is new. */
export const USERS_V2 = `id,region,role,updated_at
1,eu,admin,2020-02-01 00:00:00
2,eu,critic,2020-01-01 00:00:00
4,us,user,2020-02-01 00:00:00
`;
/** Version 3: user 3 comes back. */
export const USERS_V3 = `${USERS_V2}3,us,user,2020-03-01 00:00:00
`;

export const SNAPSHOT_FILES = {
  'seeds/users.yml': `seeds:
  - name: users
    config: { column_types: { id: UInt32, region: String, role: String, updated_at: DateTime } }
`,
  'seeds/users.csv': USERS_V1,
  'snapshots/users.sql': `{% snapshot users_ts %}
{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at', hard_deletes='invalidate') }}
select * from {{ ref('users') }}
{% endsnapshot %}

{% snapshot users_check %}
{{ config(
    unique_key=['id', 'region'], strategy='check', check_cols=['role'], hard_deletes='new_record',
    snapshot_meta_column_names={'dbt_valid_from': 'valid_from', 'dbt_valid_to': 'valid_to'},
    dbt_valid_to_current="toDateTime('2100-01-01 00:00:00')"
) }}
select id, region, role from {{ ref('users') }}
{% endsnapshot %}
`,
  'snapshots/users.yml': `snapshots:
  - name: users_yaml
    relation: ref('users')
    description: Users' history, defined in YAML.
    config: { unique_key: id, strategy: timestamp, updated_at: updated_at }
    columns:
      - name: dbt_scd_id
        data_tests: [unique, not_null]
`,
  'models/current_roles.sql': `select id, role from {{ ref('users_ts') }} where dbt_valid_to is null`,
} as const;

export type ReadRows = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** One row of history, as the tests compare it: the run's snapshot time shown as "now". */
export async function history(read: ReadRows, db: string, table: string, validTo = 'dbt_valid_to', extra = ''): Promise<string[]> {
  const rows = await read(
    `SELECT toString(id) AS id, role, if(isNull(${validTo}), 'open', if(toYear(${validTo}) >= 2100, 'open(2100)', if(toYear(${validTo}) > 2020, 'closed(now)', concat('closed(', toString(toDate(${validTo})), ')')))) AS state${extra} FROM ${db}.${table}`,
  );
  return rows.map((r) => Object.values(r).map(String).join(' ')).sort();
}

export function expectOk(r: KilnResult): void {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
}

/** Runs the scenario through `kiln`: build, then version 2 and 3 with `build` and `snapshot`, checking the history after each. */
export async function snapshotScenario(dir: string, db: string, kiln: (args: string[]) => Promise<KilnResult>, read: ReadRows): Promise<void> {
  expectOk(await kiln(['build']));
  expect(await history(read, db, 'users_ts')).toEqual(['1 user open', '2 critic open', '3 user open']);

  writeFiles(dir, { 'seeds/users.csv': USERS_V2 });
  expectOk(await kiln(['build']));
  expect(await history(read, db, 'users_ts')).toEqual([
    '1 admin open',
    '1 user closed(2020-02-01)',
    '2 critic open',
    '3 user closed(now)',
    '4 user open',
  ]);
  expect(await history(read, db, 'users_check', 'valid_to', ', dbt_is_deleted')).toEqual([
    '1 admin open(2100) False',
    '1 user closed(now) False',
    '2 critic open(2100) False',
    '3 user closed(now) False',
    '3 user open(2100) True',
    '4 user open(2100) False',
  ]);
  // The YAML snapshot ignores hard deletes: user 3 stays current.
  expect(await history(read, db, 'users_yaml')).toEqual(['1 admin open', '1 user closed(2020-02-01)', '2 critic open', '3 user open', '4 user open']);
  expect((await read(`SELECT toString(id) AS id, role FROM ${db}.current_roles ORDER BY id`)).map((r) => `${r.id} ${r.role}`)).toEqual(['1 admin', '2 critic', '4 user']);

  writeFiles(dir, { 'seeds/users.csv': USERS_V3 });
  expectOk(await kiln(['seed']));
  const snap = await kiln(['snapshot']);
  expectOk(snap);
  expect(snap.stdout).toMatch(/snapshot \S+\.users_ts/);
  expect(await history(read, db, 'users_ts')).toEqual([
    '1 admin open',
    '1 user closed(2020-02-01)',
    '2 critic open',
    '3 user closed(now)',
    '3 user open',
    '4 user open',
  ]);
  // The deletion record is closed and user 3 gets a new current row.
  expect(await history(read, db, 'users_check', 'valid_to', ', dbt_is_deleted')).toEqual([
    '1 admin open(2100) False',
    '1 user closed(now) False',
    '2 critic open(2100) False',
    '3 user closed(now) False',
    '3 user closed(now) True',
    '3 user open(2100) False',
    '4 user open(2100) False',
  ]);

  // Nothing changed since: a rerun adds no row.
  const counts = async () => {
    const out: number[] = [];
    // One read at a time: an embedded warehouse folder opens in one process at a time.
    for (const t of ['users_ts', 'users_check', 'users_yaml']) out.push(Number((await read(`SELECT count() AS n FROM ${db}.${t}`))[0]!.n));
    return out;
  };
  const before = await counts();
  expectOk(await kiln(['snapshot']));
  expect(await counts()).toEqual(before);
}
