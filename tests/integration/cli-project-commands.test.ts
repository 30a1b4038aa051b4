import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, readJson, removeProjects, runKiln, runResults, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** init, compile, ls, show, clean, --select warnings and --json on the real CLI (embedded engine). */
afterAll(removeProjects);

describe('kiln init then build', () => {
  it('scaffolds a project that builds', async () => {
    const parent = writeProject({});
    const init = await runKiln(null, ['init', 'my-shop'], { cwd: parent });
    expect(init.code).toBe(0);
    const dir = join(parent, 'my-shop');
    expect(init.stdout).toContain(`Created a kiln project in ${dir}`);
    expect(readFileSync(join(dir, 'project.yml'), 'utf8')).toMatch(/^name: my_shop$/m);

    const build = await runKiln(dir, ['build']);
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    // the scaffold's data tests join build when testing lands: count nodes loosely
    expect(build.stdout).toMatch(/^build: \d+ nodes$/m);
    expect(build.stdout).toMatch(/^1 of \d+ OK +seed file analytics\.countries \.+ \[3 rows, \d+\.\d\ds\]$/m);
    expect(build.stdout).toMatch(/OK +view model analytics\.stg_countries/);
    expect(build.stdout).toMatch(/OK +table model analytics\.dim_country \.+ \[3 rows, /);
    expect(build.stdout).toMatch(/^Finished \d+ nodes in \d+\.\d\ds: \d+ ok$/m);
    const rows = await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT country_code FROM analytics.dim_country ORDER BY country_code');
    expect(rows).toEqual([{ country_code: 'DE' }, { country_code: 'FR' }, { country_code: 'JP' }]);

    const again = await runKiln(null, ['init', 'my-shop'], { cwd: parent });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already has a project.yml');
  });
});

describe('kiln compile', () => {
  it('writes compiled SQL and the manifest without touching a database', async () => {
    const dir = writeProject({
      // a server target that does not exist: compile must not need it
      'project.yml': `name: shop
target: prod
targets:
  prod: { engine: clickhouse, url: "http://127.0.0.1:9", database: wh }
`,
      'models/staging/stg.sql': 'SELECT 1 AS id',
      'models/marts/fct.sql': "{{ config(materialized='table') }}SELECT * FROM {{ ref('stg') }}",
      'seeds/codes.csv': 'a\n1\n',
    });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Compiled 2 models, 1 seeds, 0 sources in \d+\.\d\ds → target\/manifest\.json$/m);
    expect(readFileSync(join(dir, 'target/compiled/models/marts/fct.sql'), 'utf8')).toBe('SELECT * FROM `wh`.`stg`');
    expect(readFileSync(join(dir, 'target/compiled/models/staging/stg.sql'), 'utf8')).toBe('SELECT 1 AS id');
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.shop.fct']).toMatchObject({
      unique_id: 'model.shop.fct',
      resource_type: 'model',
      depends_on: { nodes: ['model.shop.stg'], macros: [] },
      config: { materialized: 'table' },
      compiled_code: 'SELECT * FROM `wh`.`stg`',
      original_file_path: 'models/marts/fct.sql',
    });
    expect(manifest.metadata.adapter_type).toBe('clickhouse');
    expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
    expect(existsSync(join(dir, '.kiln'))).toBe(false);
  });
});

describe('target and vars selection on the command line', () => {
  it('--target beats KILN_TARGET beats the project target; --vars overrides project vars', async () => {
    const dir = writeProject({
      'project.yml': `name: multi
target: a
vars: { n: 1 }
targets:
  a: { engine: embedded, path: .kiln/a, database: db_a }
  b: { engine: embedded, path: .kiln/b, database: db_b }
  c: { engine: embedded, path: .kiln/c, database: db_c }
`,
      'models/m.sql': "SELECT {{ var('n') }} AS n, '{{ target.name }}' AS t",
    });
    const compiled = async (args: string[], env: Record<string, string> = {}) => {
      expect((await runKiln(dir, ['compile', ...args], { env })).code).toBe(0);
      return readFileSync(join(dir, 'target/compiled/models/m.sql'), 'utf8');
    };
    expect(await compiled([])).toBe("SELECT 1 AS n, 'a' AS t");
    expect(await compiled([], { KILN_TARGET: 'b' })).toBe("SELECT 1 AS n, 'b' AS t");
    expect(readJson(dir, 'target/manifest.json').nodes['model.multi.m'].relation_name).toBe('`db_b`.`m`');
    expect(await compiled(['--target', 'c'], { KILN_TARGET: 'b' })).toBe("SELECT 1 AS n, 'c' AS t");
    expect(await compiled(['--vars', '{n: 42}'])).toBe("SELECT 42 AS n, 'a' AS t");
    expect(await compiled(['--vars', '{"n": 7}'])).toBe("SELECT 7 AS n, 'a' AS t");
  });
});

describe('kiln ls, show, clean', () => {
  const files = {
    'project.yml': projectYml('shop', 'models:\n  marts: { +materialized: table, +tags: [mart] }\n'),
    'seeds/codes.csv': 'code,label\nA,alpha\nB,beta\n',
    'models/staging/stg_codes.sql': "SELECT code, upper(label) AS label FROM {{ ref('codes') }}",
    'models/marts/dim_codes.sql': "SELECT * FROM {{ ref('stg_codes') }}",
  };

  it('ls --output name | path | json lists the selection in DAG order', async () => {
    const dir = writeProject(files);
    const names = await runKiln(dir, ['ls']);
    expect(names.code).toBe(0);
    expect(names.stdout).toBe('seed:codes\nstg_codes\ndim_codes\n');
    expect((await runKiln(dir, ['ls', '--output', 'path', '--select', '+dim_codes', '--exclude', 'codes'])).stdout).toBe(
      'models/staging/stg_codes.sql\nmodels/marts/dim_codes.sql\n',
    );
    const json = await runKiln(dir, ['ls', '--output', 'json', '-s', 'tag:mart']);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      {
        unique_id: 'model.shop.dim_codes',
        name: 'dim_codes',
        resource_type: 'model',
        original_file_path: 'models/marts/dim_codes.sql',
        materialized: 'table',
        tags: ['mart'],
        depends_on: ['model.shop.stg_codes'],
      },
    ]);
    const bad = await runKiln(dir, ['ls', '--output', 'yaml']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("error: --output must be name, path or json, got 'yaml'\n");
  });

  it('--select matching nothing warns and exits 0, running nothing', async () => {
    const dir = writeProject(files);
    const ls = await runKiln(dir, ['ls', '--select', 'dim_cods']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toBe('');
    expect(ls.stderr).toBe('warning: --select dim_cods matched no nodes (check the name with `kiln ls`)\n');
    const run = await runKiln(dir, ['run', '--select', 'tag:nope']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('warning: --select tag:nope matched no nodes');
    expect(run.stdout).toMatch(/^run: 0 nodes$/m);
    expect(readJson(dir, 'target/run_results.json').results).toEqual([]);
  });

  it('show runs a model query and prints rows; --json parses; clean removes target/', async () => {
    const dir = writeProject(files);
    expect((await runKiln(dir, ['seed'])).code).toBe(0);
    const table = await runKiln(dir, ['show', 'stg_codes']);
    expect(table.code).toBe(0);
    expect(table.stdout).toBe('| code | label |\n|------|-------|\n| A    | ALPHA |\n| B    | BETA  |\n(2 rows)\n');
    const json = await runKiln(dir, ['show', 'stg_codes', '--limit', '1', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ columns: ['code', 'label'], rows: [{ code: 'A', label: 'ALPHA' }] });
    const unknown = await runKiln(dir, ['show', 'stg_code']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("error: nothing to show named 'stg_code'\n  hint: did you mean 'stg_codes'?\n");

    expect(existsSync(join(dir, 'target/manifest.json'))).toBe(true);
    const clean = await runKiln(dir, ['clean']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toBe(`Removed ${join(dir, 'target')}\n`);
    expect(existsSync(join(dir, 'target'))).toBe(false);
  });

  it('run --json prints one parseable event per line, ending with the summary', async () => {
    const dir = writeProject(files);
    const r = await runKiln(dir, ['build', '--json']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual(['info', 'phase', 'node_done', 'node_done', 'node_done', 'summary']);
    expect(events[0].message).toMatch(/^Validated 3 nodes on target 'dev' in [\d.]+s$/);
    expect(events.at(-1).results.map((x: { status: string }) => x.status)).toEqual(['success', 'success', 'success']);
    expect(runResults(dir).get('model.shop.dim_codes')).toMatchObject({ status: 'success', rows_affected: 2 });
  });

  it('a missing project is an invalid invocation (exit 2) with a hint', async () => {
    const dir = writeProject({}, 'kiln-empty-');
    const r = await runKiln(dir, ['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: no project.yml or dbt_project.yml in ${dir}\n  hint: run kiln from a project folder, pass --project-dir, or create one with \`kiln init\`\n`);
  });
});
