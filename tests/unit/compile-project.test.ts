import { afterAll, describe, expect, it } from 'vitest';
import { compileProject, type CompiledProject } from '../../src/compile/compile-project.js';
import { hookSql, modelSql } from '../../src/compile/execution-manifest.js';
import type { ModelManifestNode } from '../../src/compile/manifest.js';
import { KilnError, KilnErrors } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { memoryProjectFiles } from '../../src/project/project-files.js';
import { projectYml, removeProjects, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

function compile(files: ProjectFiles, env: Record<string, string> = {}): CompiledProject {
  const dir = writeProject(files);
  const project = loadProject({ projectDir: dir, env });
  return compileProject(project, { invocationId: 'inv-1', runStartedAt: new Date('2025-01-02T03:04:05Z') });
}

function compileErrors(files: ProjectFiles): KilnError[] {
  try {
    compile(files);
  } catch (err) {
    if (err instanceof KilnErrors) return [...err.errors];
    expect(err).toBeInstanceOf(KilnError);
    return [err as KilnError];
  }
  throw new Error('expected compile to fail');
}

const model = (c: CompiledProject, name: string) => c.manifest.nodes[`model.proj.${name}`] as ModelManifestNode;

describe('manifest', () => {
  const files: ProjectFiles = {
    'project.yml': projectYml('proj', 'models:\n  marts: { +materialized: table, +tags: [mart] }\n'),
    'sources.yml': 'sources:\n  - name: app\n    tables: [{ name: users }]\n',
    'seeds/codes.csv': 'code,label\nA,a\n',
    'macros/upper_of.sql': "{% macro upper_of(c) %}{{ inner(c) }}{% endmacro %}\n{% macro inner(c) %}upper({{ c }}){% endmacro %}",
    'models/staging/stg_users.sql': "SELECT id, {{ upper_of('name') }} AS name FROM {{ source('app', 'users') }}",
    'models/marts/dim_user.sql': "{{ config(database='marts_db', alias='users_dim') }}\nSELECT u.id, c.label FROM {{ ref('stg_users') }} AS u CROSS JOIN {{ ref('codes') }} AS c",
  };

  it('has dbt unique ids, resource types, paths and relations', () => {
    const c = compile(files);
    expect(Object.keys(c.manifest.nodes).sort()).toEqual(['model.proj.dim_user', 'model.proj.stg_users', 'seed.proj.codes']);
    expect(Object.keys(c.manifest.sources)).toEqual(['source.proj.app.users']);
    const dim = model(c, 'dim_user');
    expect(dim).toMatchObject({
      resource_type: 'model',
      name: 'dim_user',
      package_name: 'proj',
      original_file_path: 'models/marts/dim_user.sql',
      compiled_path: 'target/compiled/models/marts/dim_user.sql',
      fqn: ['proj', 'marts', 'dim_user'],
      database: 'marts_db',
      alias: 'users_dim',
      relation_name: '`marts_db`.`users_dim`',
      tags: ['mart'],
    });
    expect(dim.config).toMatchObject({ materialized: 'table', database: 'marts_db', alias: 'users_dim', tags: ['mart'] });
    expect(dim.compiled_code).toBe('\nSELECT u.id, c.label FROM `analytics`.`stg_users` AS u CROSS JOIN `analytics`.`codes` AS c');
    expect(dim.checksum.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(c.manifest.nodes['seed.proj.codes']).toMatchObject({ resource_type: 'seed', relation_name: '`analytics`.`codes`', original_file_path: 'seeds/codes.csv' });
    // A source kiln does not stage (no loader:) is a table someone else fills: dbt's <schema>.<identifier>.
    expect(c.manifest.sources['source.proj.app.users']).toMatchObject({ relation_name: '`app`.`users`', source_name: 'app', identifier: 'users' });
    expect(c.manifest.metadata).toMatchObject({ project_name: 'proj', target_name: 'dev', adapter_type: 'chdb', invocation_id: 'inv-1' });
  });

  it('depends_on lists refs, seeds, sources and macros (also macros called by macros)', () => {
    const c = compile(files);
    expect(model(c, 'dim_user').depends_on.nodes).toEqual(['model.proj.stg_users', 'seed.proj.codes']);
    const stg = model(c, 'stg_users');
    expect(stg.depends_on.nodes).toEqual(['source.proj.app.users']);
    expect(stg.depends_on.macros).toEqual(['macro.proj.inner', 'macro.proj.upper_of']);
    expect(stg.compiled_code).toBe('SELECT id, upper(name) AS name FROM `app`.`users`');
    expect(c.manifest.parent_map['model.proj.dim_user']).toEqual(['model.proj.stg_users', 'seed.proj.codes']);
    expect(c.manifest.child_map['source.proj.app.users']).toEqual(['model.proj.stg_users']);
  });

  it('a model using {{ this }} does not depend on itself', () => {
    const c = compile({ 'project.yml': projectYml(), 'models/m.sql': 'SELECT count() FROM {{ this }}' });
    expect(model(c, 'm').depends_on.nodes).toEqual([]);
    expect(model(c, 'm').compiled_code).toBe('SELECT count() FROM `analytics`.`m`');
  });
});

describe('config precedence', () => {
  it('folder < properties yml < config(), with tags and hooks accumulating', () => {
    const c = compile({
      'project.yml': projectYml('proj', `models:
  marts:
    +materialized: view
    +tags: [folder]
    +order_by: folder_key
    +engine: MergeTree()
    +pre_hook: "SELECT 'folder'"
`),
      'models/marts/props.yml': `models:
  - name: fct
    config:
      materialized: table
      order_by: yml_key
      tags: [yml]
      pre_hook: ["SELECT 'yml'"]
`,
      'models/marts/fct.sql': "{{ config(order_by='sql_key', tags=['sql'], pre_hook=\"SELECT 'sql'\") }}SELECT 1 AS folder_key, 2 AS yml_key, 3 AS sql_key",
    });
    const cfg = model(c, 'fct').config;
    expect(cfg.materialized).toBe('table');
    expect(cfg.order_by).toBe('sql_key');
    expect(cfg.engine).toBe('MergeTree()');
    expect(cfg.tags).toEqual(['folder', 'yml', 'sql']);
    expect(cfg.pre_hook).toEqual(["SELECT 'folder'", "SELECT 'yml'", "SELECT 'sql'"]);
  });

  it('models are views unless configured otherwise', () => {
    const c = compile({ 'project.yml': projectYml(), 'models/m.sql': 'SELECT 1' });
    expect(model(c, 'm').config.materialized).toBe('view');
  });
});

describe('ephemeral models', () => {
  const files: ProjectFiles = {
    'project.yml': projectYml(),
    'models/base.sql': 'SELECT 1 AS id',
    'models/e1.sql': "{{ config(materialized='ephemeral') }}SELECT id FROM {{ ref('base') }}",
    'models/e2.sql': "{{ config(materialized='ephemeral') }}SELECT id + 1 AS id FROM {{ ref('e1') }}",
    'models/final.sql': "SELECT * FROM {{ ref('e2') }}",
    'models/with_first.sql': "-- leading comment\nWITH x AS (SELECT 1 AS id)\nSELECT * FROM x JOIN {{ ref('e1') }} AS e USING id",
  };

  it('are inlined as CTEs, nested ones dependencies first, and have no relation', () => {
    const c = compile(files);
    expect(model(c, 'final').compiled_code).toBe(
      'WITH `__kiln_cte__e1` AS (\nSELECT id FROM `analytics`.`base`\n),\n`__kiln_cte__e2` AS (\nSELECT id + 1 AS id FROM `__kiln_cte__e1`\n)\nSELECT * FROM `__kiln_cte__e2`',
    );
    expect(model(c, 'e1').relation_name).toBeNull();
    expect(model(c, 'final').depends_on.nodes).toEqual(['model.proj.e2']);
  });

  it('join an existing WITH list after leading comments', () => {
    const c = compile(files);
    expect(model(c, 'with_first').compiled_code).toBe(
      '-- leading comment\nWITH `__kiln_cte__e1` AS (\nSELECT id FROM `analytics`.`base`\n),\nx AS (SELECT 1 AS id)\nSELECT * FROM x JOIN `__kiln_cte__e1` AS e USING id',
    );
  });

  it('are inlined as subqueries for servers without CTEs', () => {
    const c = compile(files);
    const final = c.execution.models['model.proj.final'];
    expect(final && 'sql' in final && modelSql(c.execution, final, { isIncremental: false, style: 'subquery' })).toBe(
      'SELECT * FROM (\nSELECT id + 1 AS id FROM (\nSELECT id FROM `analytics`.`base`\n)\n)',
    );
  });
});

describe('compile errors', () => {
  it('an unknown ref names file, line and the closest model', () => {
    const [err, ...rest] = compileErrors({
      'project.yml': projectYml(),
      'models/stg_users.sql': 'SELECT 1 AS id',
      'models/dim.sql': "SELECT *\nFROM\n  {{ ref('stg_user') }}",
    });
    expect(rest).toEqual([]);
    expect(err!.code).toBe('UNKNOWN_REF');
    expect(err!.message).toBe("unknown ref 'stg_user'");
    expect(err!.location).toEqual({ file: 'models/dim.sql', line: 3 });
    expect(err!.hint).toBe("did you mean 'stg_users'?");
  });

  it('an unknown ref is never told to ref the model it is in', () => {
    const [err] = compileErrors({
      'project.yml': projectYml(),
      'models/base.sql': 'SELECT 1 AS id',
      'models/oops.sql': "SELECT * FROM {{ ref('nope') }}",
    });
    expect(err!.message).toBe("unknown ref 'nope'");
    expect(err!.hint).not.toContain("'oops'");
  });

  it('collects every broken model instead of stopping at the first', () => {
    const errors = compileErrors({
      'project.yml': projectYml(),
      'models/a.sql': "SELECT * FROM {{ ref('nope1') }}",
      'models/b.sql': "SELECT {{ var('nope2') }}",
    });
    expect(errors.map((e) => [e.code, e.location?.file])).toEqual([
      ['UNKNOWN_VAR', 'models/b.sql'],
      ['UNKNOWN_REF', 'models/a.sql'],
    ]);
  });

  it('a cycle names every model file on the path', () => {
    const [err] = compileErrors({
      'project.yml': projectYml(),
      'models/a.sql': "SELECT * FROM {{ ref('c') }}",
      'models/b.sql': "SELECT * FROM {{ ref('a') }}",
      'models/c.sql': "SELECT * FROM {{ ref('b') }}",
    });
    expect(err!.code).toBe('CYCLE');
    expect(err!.message).toBe('dependency cycle: models/a.sql → models/b.sql → models/c.sql → models/a.sql');
  });

  it('disabled models leave the manifest, and a ref to one says so', () => {
    const c = compile({ 'project.yml': projectYml(), 'models/off.sql': '{{ config(enabled=false) }}SELECT 1', 'models/on.sql': 'SELECT 1' });
    expect(Object.keys(c.manifest.nodes)).toEqual(['model.proj.on']);
    const [err] = compileErrors({
      'project.yml': projectYml('proj', 'models:\n  old: { +enabled: false }\n'),
      'models/old/legacy.sql': 'SELECT 1',
      'models/uses.sql': "SELECT * FROM {{ ref('legacy') }}",
    });
    expect(err!.message).toBe("ref('legacy') points to a disabled model");
  });
});

describe('every error of a project in one compile', () => {
  it('a bad ref does not hide broken tests, macros, YAML or model kinds', () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'macros/a.sql': '{% macro a( %}{% endmacro %}',
      'macros/b.sql': '{% macro b() %}{% if %}{% endmacro %}',
      'models/ok.sql': 'SELECT 1 AS id',
      'models/bad_ref.sql': "SELECT * FROM {{ ref('okk') }}",
      'models/bad_kind.sql': "{{ config(materialized='incremental',\n  incremental_strategy='merge') }}\nSELECT 1 AS id",
      'models/no_key.sql': "{{ config(materialized='incremental', incremental_strategy='delete_insert') }}\nSELECT 1 AS id",
      'models/schema.yml': 'models:\n  - name: ok\n    columns:\n      - name: id\n        data_tests: [not_a_test]\n',
      'models/broken.yml': 'models: [\n',
      'tests/data/singular.sql': "SELECT * FROM {{ ref('nope') }}",
    });
    const lines = errors.map((e) => `${e.code} ${e.location?.file}:${e.location?.line ?? ''}`).sort();
    expect(lines).toEqual(
      [
        'CONFIG_INVALID models/bad_kind.sql:2',
        'CONFIG_INVALID models/no_key.sql:1',
        'TEMPLATE_ERROR macros/a.sql:1',
        'TEMPLATE_ERROR macros/b.sql:1',
        'UNKNOWN_MACRO models/schema.yml:5',
        'UNKNOWN_REF models/bad_ref.sql:1',
        'UNKNOWN_REF tests/data/singular.sql:1',
        'YAML_INVALID models/broken.yml:2',
      ].sort(),
    );
    const kind = errors.find((e) => e.location?.file === 'models/bad_kind.sql')!;
    expect(kind.message).toBe("unknown incremental_strategy 'merge'");
    expect(kind.kind).toBe('invalid');
  });

  it('a second statement in a hook or a data test is an error too (one statement per query)', () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'models/m.sql': "{{ config(post_hook='OPTIMIZE TABLE {{ this }}; DROP TABLE x') }}\nSELECT 1 AS id",
      'models/schema.yml': 'models:\n  - name: m\n    data_tests:\n      - expression_is_true: { expression: "1; DROP TABLE x" }\n',
    });
    expect(errors.map((e) => `${e.code} ${e.location?.file}`).sort()).toEqual(['SQL_INVALID models/m.sql', 'SQL_INVALID models/schema.yml']);
    expect(errors.every((e) => e.kind === 'invalid')).toBe(true);
  });

  it("a model that fails to render is reported once: refs to it are not 'unknown ref' too", () => {
    const errors = compileErrors({
      'project.yml': projectYml('proj'),
      'models/base.sql': 'SELECT {{ undefined_macro() }} AS id',
      'models/child.sql': "SELECT * FROM {{ ref('base') }}",
      'models/schema.yml': "models:\n  - name: child\n    data_tests:\n      - relationships: { column_name: id, to: ref('base'), field: id }\n",
    });
    expect(errors.map((e) => `${e.code} ${e.location?.file}`)).toEqual(['TEMPLATE_ERROR models/base.sql']);
  });

  it("dbt-clickhouse's 'delete+insert' spelling is delete_insert", () => {
    const c = compile({
      'project.yml': projectYml('proj'),
      'models/m.sql': "{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='id') }}\nSELECT 1 AS id",
    });
    expect(c.execution.models['model.proj.m']?.kind).toEqual({ materialized: 'incremental', strategy: 'delete_insert', uniqueKey: ['id'], onSchemaChange: 'ignore' });
  });
});

describe('compile from memory', () => {
  it('a project held in memory compiles with no file on disk, to the same manifest as from disk', () => {
    const files: ProjectFiles = {
      'project.yml': projectYml('proj', 'models:\n  marts: { +materialized: table }\n'),
      'sources.yml': 'sources:\n  - name: app\n    tables: [{ name: users }]\n',
      'seeds/codes.csv': 'code,label\nA,a\n',
      'models/marts/dim.sql': "SELECT u.id, c.label FROM {{ source('app', 'users') }} AS u CROSS JOIN {{ ref('codes') }} AS c",
      'models/schema.yml': 'models:\n  - name: dim\n    columns:\n      - name: id\n        data_tests: [unique]\n',
      'seeds/seeds.yml': 'seeds:\n  - name: codes\n    columns:\n      - name: code\n        data_tests: [not_null]\n',
    };
    const root = '/nonexistent/kiln-memory-project';
    const memory = memoryProjectFiles(root, files);
    const opts = { invocationId: 'inv-1', runStartedAt: new Date('2025-01-02T03:04:05Z') };
    const fromMemory = compileProject(loadProject({ files: memory, env: {} }), opts, memory);
    const dir = writeProject(files);
    const fromDisk = compileProject(loadProject({ projectDir: dir, env: {} }), opts);
    const text = (c: CompiledProject, at: string) => JSON.stringify(c.manifest).split(at).join('<root>');
    expect(text(fromMemory, root)).toBe(text(fromDisk, dir));
    expect(Object.keys(fromMemory.manifest.tests).sort()).toEqual(['test.proj.not_null_codes_code', 'test.proj.unique_dim_id']);
    // A seed test on a column its header lacks is caught from the bytes read with the project.
    const bad = memoryProjectFiles(root, { ...files, 'seeds/seeds.yml': files['seeds/seeds.yml']!.replace('- name: code\n', '- name: cod\n') });
    expect(() => compileProject(loadProject({ files: bad, env: {} }), opts, bad)).toThrow(/column 'cod', which seed 'codes' does not have/);
  });
});

describe('execution manifest', () => {
  it('holds every SQL a run executes, as plain data, so no template engine is needed to run', () => {
    const c = compile({
      'project.yml': projectYml('proj'),
      'models/eph.sql': "{{ config(materialized='ephemeral') }}\nSELECT 1 AS id",
      'models/inc.sql':
        "{{ config(materialized='incremental', pre_hook=\"SELECT '{{ this }}'\") }}\nSELECT id FROM {{ ref('eph') }}{% if is_incremental() %} WHERE id > (SELECT max(id) FROM {{ this }}){% endif %}",
    });
    const copy = JSON.parse(JSON.stringify(c.execution)) as typeof c.execution;
    expect(copy).toEqual(c.execution);
    const inc = copy.models['model.proj.inc']!;
    expect('sql' in inc).toBe(true);
    if (!('sql' in inc)) return;
    expect(modelSql(copy, inc, { isIncremental: false, style: 'cte' })).toBe(model(c, 'inc').compiled_code);
    expect(modelSql(copy, inc, { isIncremental: true, style: 'subquery' })).toBe(
      '\nSELECT id FROM (\nSELECT 1 AS id\n) WHERE id > (SELECT max(id) FROM `analytics`.`inc`)',
    );
    expect(hookSql(copy, inc, 'pre_hook', 'cte')).toEqual(["SELECT '`analytics`.`inc`'"]);
  });
});

describe('secrets', () => {
  it('passwords in source options are redacted in the manifest', () => {
    const c = compile(
      {
        'project.yml': projectYml(),
        'sources.yml': `sources:
  - name: app
    loader: mysql
    connection: { host: db, user: "{{ env_var('MYSQL_USER') }}", password: "{{ env_var('MYSQL_PASSWORD') }}" }
    tables: [{ name: users }]
`,
      },
      { MYSQL_USER: 'reader', MYSQL_PASSWORD: 'hunter2-secret' },
    );
    const text = JSON.stringify(c.manifest);
    expect(text).not.toContain('hunter2-secret');
    expect(c.manifest.sources['source.proj.app.users']!.source_meta).toMatchObject({ connection: { host: 'db', user: 'reader', password: '***' } });
  });
});

describe('a source table declaring event_time', () => {
  const files: ProjectFiles = {
    'project.yml': projectYml('proj'),
    'sources.yml': 'sources:\n  - name: app\n    tables:\n      - { name: clicks, config: { event_time: ts } }\n      - { name: users }\n',
    'models/eph.sql': "{{ config(materialized='ephemeral') }}SELECT * FROM {{ source('app', 'clicks') }}",
    'models/m.sql': "SELECT c.ts, u.id FROM {{ source('app', 'clicks') }} AS c, {{ ref('eph') }} AS e, {{ source('app', 'users') }} AS u WHERE c.note != '`app`.`clicks`'",
  };

  it('compiles to its relation as any source does, while the execution manifest can swap it (a microbatch batch\'s window)', () => {
    const c = compile(files);
    const m = model(c, 'm');
    expect(m.compiled_code).toBe("WITH `__kiln_cte__eph` AS (\nSELECT * FROM `app`.`clicks`\n)\nSELECT c.ts, u.id FROM `app`.`clicks` AS c, `__kiln_cte__eph` AS e, `app`.`users` AS u WHERE c.note != '`app`.`clicks`'");
    expect(m.depends_on.nodes).toContain('source.proj.app.clicks');
    const exec = c.execution.models['model.proj.m']!;
    if (!('sql' in exec)) throw new Error('no sql');
    // Only the declaring table is a placeholder: users is rendered as before, and a string literal naming the relation is left alone.
    const windowed = { ...c.execution, refs: { ...c.execution.refs, sources: { '["app","clicks"]': '(SELECT * FROM `app`.`clicks` WHERE ts >= 1)' } } };
    expect(modelSql(windowed, exec, { isIncremental: false, style: 'subquery' })).toBe(
      "SELECT c.ts, u.id FROM (SELECT * FROM `app`.`clicks` WHERE ts >= 1) AS c, (\nSELECT * FROM (SELECT * FROM `app`.`clicks` WHERE ts >= 1)\n) AS e, `app`.`users` AS u WHERE c.note != '`app`.`clicks`'",
    );
  });
});
