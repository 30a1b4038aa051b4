import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject } from '../../src/compile/compile-project.js';
import { Diagnostics } from '../../src/diagnostics.js';
import { KilnError, KilnErrors, type Warning } from '../../src/errors.js';
import { loadProject, type LoadProjectOptions } from '../../src/project/load-project.js';
import { diskProjectFiles } from '../../src/project/project-files.js';
import { readProject } from '../../src/project/read-project.js';
import { removeProjects, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

/** dbt_project.yml, profiles.yml, docs blocks, sources and Jinja in configs, read as dbt reads them. */
afterAll(removeProjects);

const NO_HOME = { HOME: '/nonexistent-kiln-home' };

function load(files: ProjectFiles, opts: LoadProjectOptions = {}) {
  const dir = writeProject(files);
  const project = loadProject({ projectDir: dir, env: NO_HOME, ...opts });
  const diagnostics = new Diagnostics();
  diagnostics.warnings.push(...project.warnings);
  const parsed = readProject(project, diskProjectFiles(project.root), diagnostics);
  diagnostics.throwIfErrors();
  const warnings: Warning[] = diagnostics.warnings;
  return { dir, project, parsed, warnings };
}

function failure(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (err) {
    if (err instanceof KilnErrors) return err.errors[0]!;
    expect(err).toBeInstanceOf(KilnError);
    return err as KilnError;
  }
  throw new Error('expected a KilnError');
}

const PROFILE = `shop:
  target: prod
  outputs:
    prod:
      type: clickhouse
      host: ch.internal
      port: 8443
      secure: true
      user: "{{ env_var('CH_USER') }}"
      password: "{{ env_var('CH_PASSWORD', '') }}"
      schema: marts
      cluster: main
      connect_timeout: 10
      custom_settings:
        join_use_nulls: 1
    pg:
      type: postgres
      host: localhost
`;

describe('dbt_project.yml', () => {
  it('is read where there is no project.yml; every key dbt accepts is known, the ones kiln ignores say so', () => {
    const { project, warnings } = load({
      'dbt_project.yml': `name: shop
version: '1.0.0'
config-version: 2
profile: shop
require-dbt-version: [">=1.5.0", "<2.0.0"]
model-paths: ["models"]
analysis-paths: ["analyses"]
test-paths: ["tests"]
seed-paths: ["seeds"]
macro-paths: ["macros"]
snapshot-paths: ["snapshots"]
docs-paths: ["docs"]
clean-targets: ["target", "dbt_packages"]
flags: { send_anonymous_usage_stats: false }
dbt-cloud: { project-id: 1 }
query-comment: "kiln"
quoting: { identifier: false }
on-run-start: ["select 1"]
dispatch:
  - macro_namespace: dbt_utils
    search_order: [shop, dbt_utils]
vars: { days: 3 }
`,
    });
    expect(project.config.name).toBe('shop');
    expect(project.config.testPaths).toEqual(['tests']);
    expect(project.config.docsPaths).toEqual(['docs']);
    expect(warnings.map((w) => w.message)).toEqual(["project key 'on-run-start' is not supported by kiln (ignored)"]);
    // Neither targets: nor a profiles.yml: the embedded engine.
    expect(project.target).toMatchObject({ name: 'dev', engine: 'embedded' });
  });

  it('renders Jinja in folder configs, as dbt does, and points a bad value at its key', () => {
    const files = (enabled: string) => ({
      'dbt_project.yml': `name: shop
vars:
  load_source_data: false
models:
  shop:
    staging:
      +materialized: table
      +enabled: "${enabled}"
`,
      'models/staging/stg.sql': 'select 1 as x',
    });
    expect(load(files("{{ var('load_source_data', false) }}")).parsed.models[0]!.config).toMatchObject({ materialized: 'table', enabled: false });
    expect(load(files("{{ var('load_source_data', false) }}"), { vars: { load_source_data: true } }).parsed.models[0]!.config.enabled).toBe(true);
    const err = failure(() => load(files("{{ var('load_source_data') }} maybe")));
    expect(err.message).toBe("config 'enabled' must be true or false");
    expect(err.location).toEqual({ file: 'dbt_project.yml', line: 8 });
  });
});

describe('profiles.yml', () => {
  it("a type: clickhouse output becomes the target: schema is its database, custom_settings its settings, env_var() rendered", () => {
    const { project, warnings } = load({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PROFILE }, { env: { ...NO_HOME, CH_USER: 'loader' } });
    expect(project.target).toEqual({
      name: 'prod',
      engine: 'clickhouse',
      url: 'https://ch.internal:8443',
      username: 'loader',
      password: '',
      database: 'marts',
      raw_database: 'raw',
      cluster: 'main',
      settings: { join_use_nulls: 1 },
    });
    expect(warnings).toEqual([]);
  });

  it("maps dbt-clickhouse's cluster keys and kiln's own; what kiln does not apply is noted, an unknown key is a warning, never an error", () => {
    const profile = (extra: string) => `shop:
  target: prod
  outputs:
    prod:
      type: clickhouse
      host: ch.internal
      schema: marts
${extra}`;
    const clustered = load(
      { 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': profile(`      cluster: main
      cluster_mode: true
      database_engine: Replicated('/clickhouse/db/{shard}', '{shard}', '{replica}')
      local_suffix: _shard
      local_db_prefix: ''
      allow_automatic_deduplication: false
      replicated: 'true'
      zookeeper_path: /ch/{database}/{table}/{uuid}
      replica_name: '{replica}'
      sharding_key: cityHash64(id)
      shard_count: 2
`) },
    );
    expect(clustered.project.target).toMatchObject({
      engine: 'clickhouse', database: 'marts', cluster: 'main', replicated: true,
      zookeeper_path: '/ch/{database}/{table}/{uuid}', replica_name: '{replica}', sharding_key: 'cityHash64(id)',
    });
    expect(clustered.warnings.map((w) => [w.message, w.location?.line])).toEqual([
      ["unknown key 'shard_count' in output 'prod' of profile 'shop' (ignored)", 18],
      ["cluster_mode of output 'prod' of profile 'shop': ignored with a cluster (kiln runs structure statements ON CLUSTER and makes MergeTree tables Replicated)", 9],
      ["database_engine of output 'prod' of profile 'shop': 'Replicated('/clickhouse/db/{shard}', '{shard}', '{replica}')' is not applied: kiln creates databases with the server's default engine", 10],
      ["local_suffix of output 'prod' of profile 'shop': '_shard' is not applied: a distributed model's shards' table is always <name>_local", 11],
    ]);
    expect(clustered.warnings.slice(1).every((w) => w.hint)).toBe(true);

    // ClickHouse Cloud's case: cluster_mode without a cluster is a server that replicates by itself.
    const cloud = load({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': profile('      cluster_mode: true\n      local_suffix: _local\n      database_engine: ""\n') });
    expect(cloud.project.target).toMatchObject({ replicated: true });
    expect(cloud.project.target).not.toHaveProperty('cluster');
    expect(cloud.warnings).toEqual([]);
  });

  it('is found through --profiles-dir, DBT_PROFILES_DIR and ~/.dbt, in that order after none in the project', () => {
    const dir = writeProject({
      'proj/dbt_project.yml': 'name: shop\nprofile: shop\n',
      'flag/profiles.yml': PROFILE.replace('ch.internal', 'from-flag'),
      'envdir/profiles.yml': PROFILE.replace('ch.internal', 'from-env'),
      'home/.dbt/profiles.yml': PROFILE.replace('ch.internal', 'from-home'),
    });
    const env = { CH_USER: 'u', HOME: join(dir, 'home') };
    const root = join(dir, 'proj');
    expect(loadProject({ projectDir: root, env }).target.url).toBe('https://from-home:8443');
    expect(loadProject({ projectDir: root, env: { ...env, DBT_PROFILES_DIR: join(dir, 'envdir') } }).target.url).toBe('https://from-env:8443');
    expect(loadProject({ projectDir: root, env: { ...env, DBT_PROFILES_DIR: join(dir, 'envdir') }, profilesDir: join(dir, 'flag') }).target.url).toBe('https://from-flag:8443');
    const missing = failure(() => loadProject({ projectDir: root, env, profilesDir: join(dir, 'nowhere') }));
    expect(missing.message).toBe(`no profiles.yml in ${join(dir, 'nowhere')} (from --profiles-dir)`);
  });

  it("kiln's own targets: win over a profile; every project has the built-in embedded target", () => {
    const { project } = load({
      'dbt_project.yml': 'name: shop\nprofile: shop\ntargets:\n  dev: { engine: embedded, path: .kiln/mine, database: mine }\n',
      'profiles.yml': PROFILE,
    });
    expect(project.target).toMatchObject({ name: 'dev', engine: 'embedded', database: 'mine' });
    const builtIn = load({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PROFILE }, { target: 'embedded' });
    // The profile's schema, so models land in the database they would on the server.
    expect(builtIn.project.target).toEqual({ name: 'embedded', engine: 'embedded', path: join(builtIn.dir, '.kiln/embedded'), database: 'marts', raw_database: 'raw' });
  });

  it('an output of another type is refused only when selected, with the way out', () => {
    const err = failure(() => load({ 'dbt_project.yml': 'name: shop\nprofile: shop\n', 'profiles.yml': PROFILE }, { target: 'pg', env: { ...NO_HOME, CH_USER: 'u' } }));
    expect(err.message).toBe("target 'pg' of profile 'shop' is type 'postgres'; kiln runs on ClickHouse");
    expect(err.location).toEqual({ file: 'profiles.yml', line: 17 });
    expect(err.hint).toContain('--target embedded');
  });
});

describe('docs blocks', () => {
  const files: ProjectFiles = {
    'dbt_project.yml': 'name: shop\n',
    'models/docs.md': '{% docs order_status %}\nOne of **placed**, shipped.\n{% enddocs %}\n\n{% docs orders %}All orders.{% enddocs %}\n',
    'models/orders.sql': 'select 1 as status',
    'models/schema.yml': `version: 2
models:
  - name: orders
    description: '{{ doc("orders") }}'
    columns:
      - name: status
        description: "Status: {{ doc('order_status') }}"
`,
  };

  it("{{ doc('name') }} in descriptions becomes the block's text in the manifest", () => {
    const { project } = load(files);
    const compiled = compileProject(project, { invocationId: 'i', runStartedAt: new Date(0) });
    const node = compiled.manifest.nodes['model.shop.orders']!;
    expect(node.description).toBe('All orders.');
    expect((node as { columns: Record<string, { description: string }> }).columns.status!.description).toBe('Status: One of **placed**, shipped.');
  });

  it('an unknown doc name is an error at the description’s line, with the closest name', () => {
    const err = failure(() => load({ ...files, 'models/schema.yml': files['models/schema.yml']!.replace("doc('order_status')", "doc('order_stat')") }));
    expect(err.message).toBe("unknown doc 'order_stat'");
    expect(err.location).toEqual({ file: 'models/schema.yml', line: 7 });
    expect(err.hint).toBe("did you mean 'order_status'?");
  });
});

describe('source()', () => {
  it("a source kiln does not load resolves to schema.identifier (dbt's defaults); a staged one keeps its raw naming", () => {
    const { parsed, warnings } = load({
      'dbt_project.yml': 'name: shop\n',
      'models/sources.yml': `version: 2
sources:
  - name: jaffle
    schema: raw_jaffle
    loader: fivetran
    tables:
      - name: orders
      - name: customers
        identifier: customers_v2
  - name: app
    tables: [{ name: users }]
  - name: files
    loader: csv
    tables: [{ name: events, path: data/events.csv }]
`,
    });
    const byId = Object.fromEntries(parsed.sources.map((s) => [`${s.sourceName}.${s.tableName}`, { db: s.options.database, identifier: s.identifier, loader: s.loader }]));
    expect(byId).toEqual({
      'jaffle.orders': { db: 'raw_jaffle', identifier: 'orders', loader: undefined },
      'jaffle.customers': { db: 'raw_jaffle', identifier: 'customers_v2', loader: undefined },
      'app.users': { db: 'app', identifier: 'users', loader: undefined },
      'files.events': { db: undefined, identifier: 'files__events', loader: 'csv' },
    });
    expect(warnings).toEqual([]);
  });
});

describe('a model that fails to render', () => {
  it('is reported once; the models and tests that ref it are not reported as unknown refs', () => {
    const { project } = load({
      'dbt_project.yml': 'name: shop\n',
      'models/broken.sql': "select {{ dbt_utils.nope( }}",
      'models/child.sql': "select * from {{ ref('broken') }}",
      'models/grandchild.sql': "select * from {{ ref('child') }}",
      'models/schema.yml': 'version: 2\nmodels:\n  - name: child\n    data_tests:\n      - relationships: { column_name: id, to: "ref(\'broken\')", field: id }\n',
    });
    let errors: readonly KilnError[] = [];
    try {
      compileProject(project, { invocationId: 'i', runStartedAt: new Date(0) });
    } catch (err) {
      errors = err instanceof KilnErrors ? err.errors : [err as KilnError];
    }
    expect(errors.map((e) => `${e.location?.file}: ${e.code}`)).toEqual(['models/broken.sql: TEMPLATE_ERROR']);
  });
});
