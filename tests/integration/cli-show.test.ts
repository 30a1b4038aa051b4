import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

/** kiln show beyond models: seeds, sources, raw relations, --inline and --quarantine (embedded). */
afterAll(removeProjects);

let dir: string;

beforeAll(async () => {
  dir = writeProject({
    'project.yml': projectYml('shop'),
    'sources.yml': `sources:
  - name: app
    tables:
      - name: users
        loader: csv
        path: data/users.csv
        columns:
          - { name: id, type: UInt32 }
          - { name: email, type: String }
`,
    'data/users.csv': 'id,email\n1,a@x.io\nnot-a-number,b@x.io\n3,c@x.io\n',
    'seeds/codes.csv': 'code,label\nA,alpha\nB,beta\n',
    'models/stg_users.sql': "SELECT id, upper(email) AS email FROM {{ source('app', 'users') }}",
    'models/only_a.sql': "{{ config(materialized='ephemeral') }}SELECT * FROM {{ ref('codes') }} WHERE code = 'A'",
  });
  const built = await runKiln(dir, ['build']);
  expect(built.code, built.stdout + built.stderr).toBe(0);
});

describe('kiln show', () => {
  it('shows a seed, a source (source.table) and a raw relation (database.table)', async () => {
    const seed = await runKiln(dir, ['show', 'codes', '--json']);
    expect(JSON.parse(seed.stdout).rows).toEqual([{ code: 'A', label: 'alpha' }, { code: 'B', label: 'beta' }]);
    const source = await runKiln(dir, ['show', 'app.users', '--json']);
    expect(JSON.parse(source.stdout).rows.map((r: { id: number }) => r.id)).toEqual([1, 3]);
    const raw = await runKiln(dir, ['show', 'raw._kiln_ledger', '--json']);
    expect(raw.code).toBe(0);
    expect(JSON.parse(raw.stdout).columns).toContain('fingerprint');
  });

  it('names what it cannot find, with a did-you-mean', async () => {
    const r = await runKiln(dir, ['show', 'app.user']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: nothing to show named 'app.user'\n  hint: did you mean 'app.users'?\n");
    const none = await runKiln(dir, ['show']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: kiln show needs a name, --inline or --quarantine$/m);
  });

  it('--inline runs a query written like a model: ref, source and ephemeral models resolve', async () => {
    const r = await runKiln(dir, ['show', '--json', '--inline', "SELECT count() AS n FROM {{ ref('stg_users') }} WHERE id IN (SELECT id FROM {{ source('app', 'users') }})"]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).rows).toEqual([{ n: '2' }]);
    const eph = await runKiln(dir, ['show', '--json', '--inline', "SELECT label FROM {{ ref('only_a') }}"]);
    expect(JSON.parse(eph.stdout).rows).toEqual([{ label: 'alpha' }]);
  });

  it('--inline refuses an unknown ref and a second statement before running anything', async () => {
    const unknown = await runKiln(dir, ['show', '--inline', "SELECT * FROM {{ ref('stg_user') }}"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("error: --inline: unknown ref 'stg_user' in --inline\n  hint: did you mean 'stg_users'?\n");
    const two = await runKiln(dir, ['show', '--inline', "SELECT 1; DROP TABLE analytics.stg_users"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/second SQL statement/);
    const still = await runKiln(dir, ['show', 'stg_users', '--json']);
    expect(JSON.parse(still.stdout).rows).toHaveLength(2);
  });

  it('--quarantine shows rejected records, all or one source table', async () => {
    const all = await runKiln(dir, ['show', '--quarantine', '--json']);
    expect(all.stderr).toBe('');
    const rows = JSON.parse(all.stdout).rows as Array<{ source_name: string; table_name: string; raw: string }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source_name: 'app', table_name: 'users' });
    expect(rows[0]!.raw).toContain('not-a-number');
    const one = await runKiln(dir, ['show', '--quarantine', 'app.users', '--json']);
    expect(JSON.parse(one.stdout).rows).toHaveLength(1);
    const bad = await runKiln(dir, ['show', '--quarantine', 'app.usr']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean 'app.users'/);
  });

  it('--quarantine before anything was staged shows no rows', async () => {
    const fresh = writeProject({ 'project.yml': projectYml('empty'), 'models/a.sql': 'SELECT 1 AS x' });
    const r = await runKiln(fresh, ['show', '--quarantine']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('(no rows)\n');
  });
});
