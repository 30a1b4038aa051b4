import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KilnError, KilnErrors, type Warning } from '../../src/errors.js';
import { loadProject, type LoadProjectOptions } from '../../src/project/load-project.js';
import { folderConfigFor, mergeConfigs, parseFolderConfig } from '../../src/project/node-config.js';
import { Diagnostics } from '../../src/diagnostics.js';
import { diskProjectFiles } from '../../src/project/project-files.js';
import { readProject } from '../../src/project/read-project.js';
import { projectYml, removeProjects, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

function load(files: ProjectFiles, opts: LoadProjectOptions = {}) {
  const dir = writeProject(files);
  const project = loadProject({ projectDir: dir, env: {}, ...opts });
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

describe('project.yml', () => {
  it('reads every key', () => {
    const { dir, project, parsed } = load({
      'project.yml': `name: movies
version: 3
model-paths: [transform]
seed-paths: [csv]
macro-paths: [lib]
test-paths: [checks]
target-path: out
vars: { data_root: /data, days: 7 }
models:
  staging: { materialized: view }
seeds:
  +tags: [seeded]
target: ci
targets:
  dev: { engine: embedded, path: .kiln/dev }
  ci: { engine: embedded, path: /tmp/kiln-ci-wh, database: an, raw_database: rw, threads: 2 }
`,
      'transform/staging/stg.sql': 'SELECT 1',
      'csv/codes.csv': 'a\n1\n',
      'lib/m.sql': '{% macro m() %}1{% endmacro %}',
    });
    const c = project.config;
    expect(c.name).toBe('movies');
    expect(c.version).toBe(3);
    expect(c.modelPaths).toEqual(['transform']);
    expect(c.seedPaths).toEqual(['csv']);
    expect(c.macroPaths).toEqual(['lib']);
    expect(c.testPaths).toEqual(['checks']);
    expect(c.targetPath).toBe('out');
    expect(project.scope.vars).toEqual({ data_root: '/data', days: 7 });
    expect(project.target).toEqual({ name: 'ci', engine: 'embedded', path: '/tmp/kiln-ci-wh', database: 'an', raw_database: 'rw', threads: 2 });
    expect(parsed.models.map((m) => m.originalFilePath)).toEqual(['transform/staging/stg.sql']);
    expect(parsed.models[0]!.config.materialized).toBe('view');
    expect(parsed.seeds.map((s) => s.name)).toEqual(['codes']);
    expect(parsed.seeds[0]!.config.tags).toEqual(['seeded']);
    expect(parsed.macros.map((m) => m.path)).toEqual(['lib/m.sql']);
    expect(project.root).toBe(dir);
  });

  it('has dbt-like defaults and an embedded dev target when none is declared', () => {
    const { dir, project } = load({ 'project.yml': 'name: tiny\n' });
    expect(project.config.modelPaths).toEqual(['models']);
    expect(project.config.seedPaths).toEqual(['seeds']);
    expect(project.config.macroPaths).toEqual(['macros']);
    expect(project.config.testPaths).toEqual(['tests/data']);
    expect(project.config.targetPath).toBe('target');
    expect(project.target).toMatchObject({ name: 'dev', engine: 'embedded', path: join(dir, '.kiln/dev'), database: 'analytics', raw_database: 'raw' });
  });

  it('renders env_var() in targets and resolves relative paths against the project', () => {
    const files = {
      'project.yml': `name: p
targets:
  dev: { engine: embedded, path: wh/dev }
  prod:
    engine: clickhouse
    url: "{{ env_var('CH_URL') }}"
    username: "{{ env_var('CH_USER', 'default') }}"
    password: "{{ env_var('CH_PASSWORD', '') }}"
`,
    };
    const dev = load(files);
    expect(dev.project.target.path).toBe(join(dev.dir, 'wh/dev'));
    const prod = load(files, { target: 'prod', env: { CH_URL: 'https://ch.example:8443', CH_PASSWORD: 'pw' } });
    expect(prod.project.target).toMatchObject({ engine: 'clickhouse', url: 'https://ch.example:8443', username: 'default', password: 'pw' });
    // prod's env vars are not needed while dev is selected; without them prod is a clear error
    const err = failure(() => load(files, { target: 'prod' }));
    expect(err.message).toBe("environment variable 'CH_URL' is not set");
    expect(err.location).toEqual({ file: 'project.yml', line: 5 });
    expect(err.hint).toBe('export CH_URL=... or give env_var() a default');
  });

  it('picks the target: --target over KILN_TARGET over project target', () => {
    const files = {
      'project.yml': `name: p
target: a
targets:
  a: { path: .kiln/a }
  b: { path: .kiln/b }
  c: { path: .kiln/c }
`,
    };
    expect(load(files).project.target.name).toBe('a');
    expect(load(files, { env: { KILN_TARGET: 'b' } }).project.target.name).toBe('b');
    expect(load(files, { env: { KILN_TARGET: 'b' }, target: 'c' }).project.target.name).toBe('c');
    const err = failure(() => load(files, { target: 'bb' }));
    expect(err.code).toBe('TARGET_INVALID');
    expect(err.hint).toContain("'b'");
  });

  it('--vars override project vars, key by key', () => {
    const { project } = load({ 'project.yml': 'name: p\nvars: { data_root: data, days: 7 }\n' }, { vars: { data_root: '/elsewhere' } });
    expect(project.scope.vars).toEqual({ data_root: '/elsewhere', days: 7 });
  });

  it('warns about an unknown key and names the closest one', () => {
    const { project } = load({ 'project.yml': 'name: p\nmodel-path: [models]\n' });
    expect(project.warnings).toEqual([
      { message: "unknown project key 'model-path' (ignored)", location: { file: 'project.yml', line: 2 }, hint: "did you mean 'model-paths'?", unknownKey: true },
    ]);
  });

  it('invalid YAML is an error with file:line:column', () => {
    const err = failure(() => load({ 'project.yml': 'name: p\nvars: { a: 1\nmodels: {}\n' }));
    expect(err.code).toBe('YAML_INVALID');
    expect(err.location?.file).toBe('project.yml');
    expect(err.location?.line).toBeGreaterThanOrEqual(2);
    expect(err.location?.column).toBeGreaterThanOrEqual(1);
  });

  it('a missing project.yml is PROJECT_NOT_FOUND', () => {
    const dir = writeProject({ 'models/a.sql': 'SELECT 1' });
    expect(failure(() => loadProject({ projectDir: dir })).code).toBe('PROJECT_NOT_FOUND');
  });

  it('a target with an unknown key or engine is rejected with a hint', () => {
    const typo = failure(() => load({ 'project.yml': 'name: p\ntargets:\n  dev: { engine: embedded, pathh: x }\n' }));
    expect(typo.code).toBe('TARGET_INVALID');
    expect(typo.hint).toContain("'path'");
    const engine = failure(() => load({ 'project.yml': 'name: p\ntargets:\n  dev: { engine: postgres }\n' }));
    expect(engine.message).toContain("unknown engine 'postgres'");
    const noUrl = failure(() => load({ 'project.yml': 'name: p\ntargets:\n  dev: { engine: clickhouse }\n' }));
    expect(noUrl.message).toContain('needs a url');
  });

  it('reads a cluster target\'s replication keys, and refuses a zookeeper_path without {uuid} or a replicated that is not a boolean', () => {
    const target = (keys: string) => `name: p\ntargets:\n  prod: { engine: clickhouse, url: "http://x:8123", cluster: c${keys} }\n`;
    expect(load({ 'project.yml': target(", replicated: false, zookeeper_path: '/z/{table}/{uuid}', replica_name: '{replica}', sharding_key: 'cityHash64(id)'") }).project.target).toMatchObject({
      cluster: 'c',
      replicated: false,
      zookeeper_path: '/z/{table}/{uuid}',
      replica_name: '{replica}',
      sharding_key: 'cityHash64(id)',
    });
    const noUuid = failure(() => load({ 'project.yml': target(", zookeeper_path: '/z/{database}/{table}'") }));
    expect(noUuid.code).toBe('TARGET_INVALID');
    expect(noUuid.message).toBe("target 'prod' zookeeper_path '/z/{database}/{table}' has no {uuid}");
    expect(noUuid.hint).toContain('/{uuid}');
    expect(noUuid.location?.file).toBe('project.yml');
    const notBool = failure(() => load({ 'project.yml': target(', replicated: yes-please') }));
    expect(notBool.message).toBe("target 'prod' replicated must be true or false, not 'yes-please'");
  });
});

describe('folder configs', () => {
  it('apply by folder, with +key spelling and project-name nesting, innermost last', () => {
    const { parsed } = load({
      'project.yml': projectYml('movies', `models:
  +tags: [all]
  movies:
    staging:
      +materialized: view
      +tags: stg
      app: { materialized: table, order_by: id }
    marts:
      materialized: table
      pre-hook: "SELECT 1"
`),
      'models/staging/app/stg_users.sql': 'SELECT 1 AS id',
      'models/staging/stg_events.sql': 'SELECT 1 AS id',
      'models/marts/dim_x.sql': 'SELECT 1 AS id',
      'models/top.sql': 'SELECT 1 AS id',
    });
    const cfg = Object.fromEntries(parsed.models.map((m) => [m.name, m.config]));
    expect(cfg.stg_users).toEqual({ tags: ['all', 'stg'], materialized: 'table', order_by: 'id' });
    expect(cfg.stg_events).toEqual({ tags: ['all', 'stg'], materialized: 'view' });
    expect(cfg.dim_x).toEqual({ tags: ['all'], materialized: 'table', pre_hook: ['SELECT 1'] });
    expect(cfg.top).toEqual({ tags: ['all'] });
    expect(parsed.models.find((m) => m.name === 'stg_users')!.fqn).toEqual(['movies', 'staging', 'app', 'stg_users']);
  });

  it('unknown config keys warn with the closest key', () => {
    const warnings: Warning[] = [];
    parseFolderConfig({ staging: { materialised: 'view' } }, { file: 'project.yml', line: 3 }, warnings);
    expect(warnings).toEqual([{ message: "unknown config key 'materialised'", location: { file: 'project.yml', line: 3 }, hint: "did you mean 'materialized'?", unknownKey: true }]);
  });

  it('an unknown materialization is held for compile (a macro file may define it), one that is no name is an error', () => {
    const warnings: Warning[] = [];
    parseFolderConfig({ materialized: 'tabel' }, { file: 'project.yml', line: 2 }, warnings);
    expect(warnings).toEqual([{ message: "unknown materialization 'tabel'", location: { file: 'project.yml', line: 2 }, hint: "did you mean 'table'?", materialization: 'tabel' }]);
    expect(() => parseFolderConfig({ materialized: 'a table' }, { file: 'project.yml' }, [])).toThrow(/unknown materialization 'a table'/);
  });

  it('folderConfigFor accepts configs with and without the project name level', () => {
    const tree = parseFolderConfig({ staging: { '+materialized': 'view' } }, { file: 'project.yml' }, []);
    expect(folderConfigFor(tree, ['staging', 'deep'], 'movies')).toEqual({ materialized: 'view' });
    expect(folderConfigFor(tree, ['marts'], 'movies')).toEqual({});
  });

  it('mergeConfigs: later wins, tags dedupe and accumulate, hooks accumulate, settings merge', () => {
    const merged = mergeConfigs(
      { materialized: 'view', tags: ['a'], pre_hook: ['h1'], settings: { x: 1, y: 1 } },
      { materialized: 'table', tags: ['a', 'b'], pre_hook: ['h2'], settings: { y: 2 } },
      { order_by: 'id', tags: ['c'] },
    );
    expect(merged).toEqual({ materialized: 'table', tags: ['a', 'b', 'c'], pre_hook: ['h1', 'h2'], settings: { x: 1, y: 2 }, order_by: 'id' });
  });
});

describe('properties YAML and model files', () => {
  it('reads description, columns with tests, config and tags from models/**/*.yml', () => {
    const { parsed, warnings } = load({
      'project.yml': projectYml(),
      'models/marts/dim_content.sql': 'SELECT 1 AS content_id',
      'models/marts/schema.yml': `version: 2
models:
  - name: dim_content
    description: One row per title.
    tags: [core]
    config: { materialized: table, order_by: content_id }
    columns:
      - name: content_id
        description: The id.
        data_type: UInt32
        data_tests: [unique, not_null]
      - name: content_type
        tests:
          - accepted_values: { values: [MOVIE, SERIES] }
  - name: dim_ghost
    description: no file
`,
    });
    const m = parsed.models[0]!;
    expect(m.description).toBe('One row per title.');
    expect(m.config).toEqual({ materialized: 'table', order_by: 'content_id', tags: ['core'] });
    expect(m.columns).toEqual([
      { name: 'content_id', description: 'The id.', data_type: 'UInt32', data_tests: ['unique', 'not_null'] },
      { name: 'content_type', description: '', data_tests: [{ accepted_values: { values: ['MOVIE', 'SERIES'] } }] },
    ]);
    expect(m.patch).toEqual({ file: 'models/marts/schema.yml', line: 3 });
    expect(warnings.map((w) => w.message)).toEqual(["properties declared for model 'dim_ghost', but there is no such model file"]);
  });

  it('two models with one name are an error naming both files', () => {
    const err = failure(() =>
      load({ 'project.yml': projectYml(), 'models/a/orders.sql': 'SELECT 1', 'models/b/orders.sql': 'SELECT 2' }),
    );
    expect(err.code).toBe('DUPLICATE_NODE');
    expect(err.message).toBe("two nodes are named 'orders': models/a/orders.sql and models/b/orders.sql");
    expect(err.location).toEqual({ file: 'models/b/orders.sql' });
  });

  it('a model and a seed with one name collide too', () => {
    const err = failure(() => load({ 'project.yml': projectYml(), 'models/codes.sql': 'SELECT 1', 'seeds/codes.csv': 'a\n1\n' }));
    expect(err.code).toBe('DUPLICATE_NODE');
  });

  it('invalid YAML in a properties file gives its file:line:column', () => {
    const err = failure(() =>
      load({ 'project.yml': projectYml(), 'models/a.sql': 'SELECT 1', 'models/props.yml': 'models:\n  - name: a\n    config: {materialized: table\n' }),
    );
    expect(err.code).toBe('YAML_INVALID');
    expect(err.location?.file).toBe('models/props.yml');
    expect(err.location?.line).toBeGreaterThanOrEqual(3);
    expect(err.location?.column).toBeGreaterThanOrEqual(1);
  });

  it('sources.yml renders var()/env_var() and declares source nodes', () => {
    const { parsed } = load(
      {
        'project.yml': projectYml('p', 'vars: { data_root: data }\n'),
        'sources.yml': `sources:
  - name: exports
    loader: csv
    tables:
      - name: imdb_titles
        path: "{{ var('data_root') }}/exports/imdb_*.csv"
      - name: other
        identifier: custom_raw
`,
      },
      { vars: { data_root: '/mnt' } },
    );
    const missing = failure(() => load({ 'project.yml': projectYml(), 'sources.yml': "sources:\n  - name: x\n    tables:\n      - name: t\n        path: \"{{ var('root') }}/t.csv\"\n" }));
    expect([missing.code, missing.message, missing.location]).toEqual(['UNKNOWN_VAR', "var 'root' is not defined", { file: 'sources.yml', line: 4 }]);
    expect(parsed.sources.map((s) => [s.uniqueId, s.identifier, s.options.path])).toEqual([
      ['source.p.exports.imdb_titles', 'exports__imdb_titles', '/mnt/exports/imdb_*.csv'],
      ['source.p.exports.other', 'custom_raw', undefined],
    ]);
  });
});
