import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson, removeProjects, runKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** packages.yml, `kiln deps` and package namespaces, on the real CLI and the embedded engine. */
afterAll(removeProjects);

/** A small dbt package: a namespaced macro using a private one, a model, a generic test, a materialization. */
const UTIL_PACKAGE: Record<string, string> = {
  'dbt_project.yml': `name: util
version: '1.0'
config-version: 2
models:
  util:
    +materialized: table
`,
  'macros/keys.sql': `{% macro surrogate(cols) %}cityHash64({{ _joined(cols) }}){% endmacro %}
{% macro greet() %}'from package'{% endmacro %}
`,
  'macros/private.sql': `{% macro _joined(cols) %}{{ cols | join(', ') }}{% endmacro %}
{% materialization lakehouse, adapter='clickhouse' %}
  {{ return({'relations': []}) }}
{% endmaterialization %}
`,
  'tests/generic/all_positive.sql': `{% test all_positive(model, column_name) %}
select * from {{ model }} where {{ column_name }} <= 0
{% endtest %}
`,
  'models/util_numbers.sql': 'select number + 1 as n from numbers(3)\n',
};

const under = (prefix: string, files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}/${k}`, v]));

/** A dbt project (no project.yml, no target) that uses the package. */
function rootProject(packagesYml: string): Record<string, string> {
  return {
    'dbt_project.yml': 'name: shop\nprofile: shop\nconfig-version: 2\n',
    'packages.yml': packagesYml,
    // The root project's macro of a package macro's name wins where the name is used bare.
    'macros/greet.sql': `{% macro greet() %}'from root'{% endmacro %}\n`,
    'models/keyed.sql': "select n, {{ util.surrogate(['n', 'n']) }} as k, {{ greet() }} as g, {{ util.greet() }} as pg from {{ ref('util_numbers') }}\n",
    'models/schema.yml': `version: 2
models:
  - name: keyed
    columns:
      - name: n
        data_tests: [util.all_positive, not_null]
`,
  };
}

describe('a local: package', () => {
  it('builds with its macros under its name, its model in the graph and its generic test, without kiln deps', async () => {
    const dir = writeProject({ ...rootProject('packages:\n  - local: vendor/util\n'), ...under('vendor/util', UTIL_PACKAGE) });
    const r = await runKiln(dir, ['build']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/OK +table model analytics\.util_numbers .+\[3 rows/);
    expect(r.stdout).toMatch(/PASS +test util_all_positive_keyed_n/);
    const rows = await queryWarehouse(join(dir, '.kiln/dev'), 'SELECT n, k = cityHash64(n, n) AS hashed, g, pg FROM analytics.keyed ORDER BY n');
    expect(rows).toEqual([1, 2, 3].map((n) => ({ n, hashed: 1, g: 'from root', pg: 'from package' })));

    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.nodes['model.util.util_numbers']).toMatchObject({ package_name: 'util', original_file_path: 'vendor/util/models/util_numbers.sql', fqn: ['util', 'util_numbers'] });
    expect(manifest.nodes['model.shop.keyed'].depends_on.nodes).toEqual(['model.util.util_numbers']);
    expect(manifest.macros['macro.util.surrogate']).toMatchObject({ original_file_path: 'vendor/util/macros/keys.sql' });
    expect(manifest.macros['macro.shop.greet']).toMatchObject({ original_file_path: 'macros/greet.sql' });
  });

  it('a package outside the project folder, linked by kiln deps into dbt_packages/ with a package-lock.yml', async () => {
    const parent = writeProject({ ...under('util', UTIL_PACKAGE), ...under('shop', rootProject('packages:\n  - local: ../util\n')) });
    const dir = join(parent, 'shop');
    const deps = await runKiln(dir, ['deps']);
    expect(deps.stderr).toBe('');
    expect(deps.code).toBe(0);
    expect(deps.stdout).toContain('Installed util (local: ../util)');
    expect(lstatSync(join(dir, 'dbt_packages/util')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, 'dbt_packages/util'))).toBe('../../util');
    expect(readFileSync(join(dir, 'package-lock.yml'), 'utf8')).toMatch(/^packages:\n {2}- local: \.\.\/util\n {4}name: util\nsha1_hash: [0-9a-f]{40}\n$/);
    const r = await runKiln(dir, ['build']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Finished 4 nodes/m);
  });

  it('compile sees package files as inputs: an edited package macro is compiled again', async () => {
    const dir = writeProject({ ...rootProject('packages:\n  - local: vendor/util\n'), ...under('vendor/util', UTIL_PACKAGE) });
    expect((await runKiln(dir, ['compile'])).code).toBe(0);
    expect((await runKiln(dir, ['compile'])).stdout).toContain('(unchanged)');
    writeFiles(dir, { 'vendor/util/macros/keys.sql': UTIL_PACKAGE['macros/keys.sql']!.replace('cityHash64', 'sipHash64') });
    const again = await runKiln(dir, ['compile']);
    expect(again.stdout).not.toContain('(unchanged)');
    expect(readFileSync(join(dir, 'target/compiled/models/keyed.sql'), 'utf8')).toContain('sipHash64(n, n)');
  });
});

describe('kiln deps', () => {
  it('installs a tarball: from a file, then compile reads it from dbt_packages/', async () => {
    const parent = writeProject({ ...under('src/util', UTIL_PACKAGE), ...under('shop', rootProject('packages:\n  - tarball: ../util-1.0.tar.gz\n')) });
    const tar = spawnSync('tar', ['-czf', join(parent, 'util-1.0.tar.gz'), '-C', join(parent, 'src'), 'util']);
    expect(tar.status).toBe(0);
    const dir = join(parent, 'shop');
    const before = await runKiln(dir, ['compile']);
    expect(before.code).toBe(2);
    expect(before.stderr).toBe("error: packages.yml:2: package 'tarball: ../util-1.0.tar.gz' is not installed\n  hint: run `kiln deps` to install the packages packages.yml lists into dbt_packages/\n");

    const deps = await runKiln(dir, ['deps']);
    expect(deps.stderr).toBe('');
    expect(deps.code).toBe(0);
    expect(existsSync(join(dir, 'dbt_packages/util/macros/keys.sql'))).toBe(true);
    expect(readFileSync(join(dir, 'package-lock.yml'), 'utf8')).toContain('- tarball: ../util-1.0.tar.gz\n    name: util\n');
    const r = await runKiln(dir, ['build']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readJson(dir, 'target/manifest.json').nodes['model.util.util_numbers'].original_file_path).toBe('dbt_packages/util/models/util_numbers.sql');
  });

  it.each([
    ['a hub package', 'packages:\n  - package: dbt-labs/dbt_utils\n    version: [">=1.0.0", "<2.0.0"]\n', /^error: packages\.yml:2: cannot install package 'package: dbt-labs\/dbt_utils \(version >=1\.0\.0, <2\.0\.0\)': .+\n {2}hint: check the network/],
    ['a git package', 'packages:\n  - git: https://kiln-test.invalid/dbt-labs/dbt-utils.git\n    revision: 1.3.0\n', /^error: packages\.yml:2: cannot install package 'git: https:\/\/kiln-test\.invalid\/dbt-labs\/dbt-utils\.git \(revision 1\.3\.0\)': .+\n {2}hint: check the network/],
    ['an http tarball', 'packages:\n  - tarball: https://kiln-test.invalid/util.tar.gz\n', /^error: packages\.yml:2: cannot install package 'tarball: https:\/\/kiln-test\.invalid\/util\.tar\.gz': .+\n {2}hint: check the network/],
  ])('%s it cannot reach is one line with a hint and exit 2', async (_what, packagesYml, message) => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\n', 'packages.yml': packagesYml });
    const r = await runKiln(dir, ['deps']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
    expect(existsSync(join(dir, 'package-lock.yml'))).toBe(false);
  });

  it('a package entry of no known kind points at its line', async () => {
    const dir = writeProject({ 'dbt_project.yml': 'name: shop\n', 'packages.yml': 'packages:\n  - local: vendor/x\n  - pakage: dbt-labs/dbt_utils\n' });
    writeFiles(dir, { 'vendor/x/dbt_project.yml': 'name: x\n' });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: packages\.yml:3: a package entry needs one of local:, git:, tarball: or package:\n {2}hint: /);
  });
});

describe('a package as dbt scopes it', () => {
  /** The package with a model of its own materialization, its own vars, a source and a test on its own model. */
  const scoped = (extraRoot: Record<string, string> = {}) => ({
    ...rootProject('packages:\n  - local: vendor/util\n'),
    'dbt_project.yml': `name: shop
profile: shop
config-version: 2
vars:
  region: eu
  util:
    greeting: hello from the root
`,
    ...under('vendor/util', {
      ...UTIL_PACKAGE,
      'dbt_project.yml': `name: util
version: '1.0'
config-version: 2
vars:
  greeting: the package default
  unit: km
models:
  util:
    +materialized: table
`,
      'models/util_lake.sql': "{{ config(materialized='lakehouse') }}\nselect 1 as x\n",
      'models/util_vars.sql': "select '{{ var('greeting') }}' as greeting, '{{ var('unit') }}' as unit, '{{ var('region') }}' as region\n",
      'models/sources.yml': `version: 2
sources:
  - name: ledger
    schema: util_raw
    tables: [{ name: entries }]
models:
  - name: util_numbers
    columns:
      - name: n
        data_tests: [not_null]
`,
      'models/util_entries.sql': "select * from {{ source('ledger', 'entries') }}\n",
    }),
    'models/root_vars.sql': "select '{{ var('greeting', 'unset') }}' as greeting, '{{ var('unit', 'unset') }}' as unit\n",
    ...extraRoot,
  });

  it('a model of a package’s own materialization compiles, and fails only when selected to run', async () => {
    const dir = writeProject(scoped());
    const compile = await runKiln(dir, ['compile']);
    expect(compile.stderr).toBe('');
    expect(compile.code).toBe(0);
    expect(readJson(dir, 'target/manifest.json').nodes['model.util.util_lake'].config.materialized).toBe('lakehouse');

    const others = await runKiln(dir, ['run', '--exclude', 'util_lake util_entries']);
    expect(others.code, others.stderr).toBe(0);
    const run = await runKiln(dir, ['run', '--select', 'util_lake']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: vendor/util/models/util_lake.sql: model 'util_lake' uses materialization 'lakehouse', which package util defines in vendor/util/macros/private.sql and kiln does not run\n" +
        '  hint: leave it out (--exclude util_lake), or materialize it as view, table, incremental, materialized_view or ephemeral\n',
    );
  });

  it('a materialization nothing defines is an error at the config that names it', async () => {
    const inModel = await runKiln(writeProject(scoped({ 'models/typo.sql': "{{ config(materialized='tabel') }}\nselect 1 as x\n" })), ['compile']);
    expect(inModel.code).toBe(2);
    expect(inModel.stderr).toContain("error: models/typo.sql:1: unknown materialization 'tabel'\n  hint: did you mean 'table'?");
    const files = scoped();
    const inProject = await runKiln(writeProject({ ...files, 'dbt_project.yml': `${files['dbt_project.yml']}models:\n  shop:\n    +materialized: tabel\n` }), ['compile']);
    expect(inProject.code).toBe(2);
    // Once, at the key: not again for each model the folder config reaches.
    expect(inProject.stderr.match(/unknown materialization/g)).toHaveLength(1);
    expect(inProject.stderr).toContain("error: dbt_project.yml:10: unknown materialization 'tabel'\n  hint: did you mean 'table'?");
  });

  it('vars are scoped per package: the root’s vars: {util: …} and the package’s own reach only its nodes', async () => {
    const dir = writeProject(scoped());
    const r = await runKiln(dir, ['run', '--select', 'util_vars root_vars']);
    expect(r.code, r.stderr).toBe(0);
    const wh = join(dir, '.kiln/dev');
    // The root's scoped var over the package's default; the package's own; the root's global one.
    expect(await queryWarehouse(wh, 'SELECT greeting, unit, region FROM analytics.util_vars')).toEqual([{ greeting: 'hello from the root', unit: 'km', region: 'eu' }]);
    expect(await queryWarehouse(wh, 'SELECT greeting, unit FROM analytics.root_vars')).toEqual([{ greeting: 'unset', unit: 'unset' }]);
    const withCli = await runKiln(dir, ['run', '--select', 'util_vars', '--vars', '{greeting: from the command line}']);
    expect(withCli.code, withCli.stderr).toBe(0);
    expect(await queryWarehouse(wh, 'SELECT greeting FROM analytics.util_vars')).toEqual([{ greeting: 'from the command line' }]);
  });

  it('a package’s sources and tests have its name in their unique ids', async () => {
    const dir = writeProject(scoped());
    const r = await runKiln(dir, ['compile']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = readJson(dir, 'target/manifest.json');
    expect(manifest.sources['source.util.ledger.entries']).toMatchObject({ package_name: 'util', fqn: ['util', 'ledger', 'entries'], relation_name: '`util_raw`.`entries`' });
    expect(manifest.sources['source.shop.ledger.entries']).toBeUndefined();
    expect(manifest.nodes['model.util.util_entries'].depends_on.nodes).toEqual(['source.util.ledger.entries']);
    expect(manifest.nodes['test.util.not_null_util_numbers_n']).toMatchObject({ package_name: 'util', fqn: ['util', 'not_null_util_numbers_n'] });
    expect(manifest.child_map['model.util.util_numbers']).toContain('test.util.not_null_util_numbers_n');
  });
});
