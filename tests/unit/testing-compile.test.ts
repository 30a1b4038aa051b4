import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject, type CompiledProject } from '../../src/compile/compile-project.js';
import { writeCompileArtifacts } from '../../src/compile/write-artifacts.js';
import { KilnError, KilnErrors } from '../../src/errors.js';
import { selectableNodes } from '../../src/graph/selection-state.js';
import { selectNodes } from '../../src/graph/selector.js';
import { loadProject } from '../../src/project/load-project.js';
import { gatesOf } from '../../src/testing/test-phase.js';
import { projectYml, removeProjects, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

function compileDir(files: ProjectFiles): { dir: string; c: CompiledProject } {
  const dir = writeProject(files);
  const project = loadProject({ projectDir: dir });
  return { dir, c: compileProject(project, { invocationId: 'inv-1', runStartedAt: new Date('2025-01-02T03:04:05Z') }) };
}

function compileErrors(files: ProjectFiles): KilnError[] {
  try {
    compileDir(files);
  } catch (err) {
    if (err instanceof KilnErrors) return [...err.errors];
    expect(err).toBeInstanceOf(KilnError);
    return [err as KilnError];
  }
  throw new Error('expected compile to fail');
}

const BASE: ProjectFiles = {
  'project.yml': projectYml('proj', 'tests:\n  +severity: warn\n  marts: { +tags: [nightly] }\n'),
  'sources.yml': `sources:
  - name: app
    tables:
      - name: users
        columns:
          - name: id
            data_tests: [not_null]
`,
  'seeds/codes.csv': 'code,label\nA,a\n',
  'models/staging/stg_users.sql': "SELECT id, code FROM {{ source('app', 'users') }}",
  'models/marts/dim_user.sql': "SELECT id, code FROM {{ ref('stg_users') }}",
  'models/marts/schema.yml': `models:
  - name: dim_user
    data_tests:
      - expression_is_true: { expression: "id > 0", config: { severity: error, where: "code != ''" } }
    columns:
      - name: id
        data_tests:
          - unique
          - not_null: { config: { limit: 10, tags: [keys] } }
      - name: code
        data_tests:
          - relationships: { to: "ref('codes')", field: code }
          - accepted_values: { values: [A, B], quote: true }
          - is_upper
unit_tests:
  - name: keeps_ids
    model: dim_user
    given:
      - input: ref('stg_users')
        rows: [{ id: 1, code: A }]
    expect:
      rows: [{ id: 1 }]
`,
  'macros/tests.sql': '{% test is_upper(model, column_name) %}SELECT * FROM {{ model }} WHERE {{ column_name }} != upper({{ column_name }}){% endtest %}',
  'tests/data/no_orphans.sql': "SELECT id FROM {{ ref('dim_user') }} WHERE id NOT IN (SELECT id FROM {{ ref('stg_users') }})",
};

describe('test nodes in the manifest', () => {
  const { dir, c } = compileDir(BASE);
  const tests = c.manifest.tests;

  it('names generic tests and their unique ids as dbt does, on models and sources', () => {
    expect(Object.keys(tests).sort()).toEqual([
      'test.proj.accepted_values_dim_user_code__True__A__B',
      'test.proj.expression_is_true_dim_user_id_0',
      'test.proj.is_upper_dim_user_code',
      'test.proj.no_orphans',
      'test.proj.not_null_dim_user_id',
      'test.proj.relationships_dim_user_code__code__ref_codes_',
      'test.proj.source_not_null_app_users_id',
      'test.proj.unique_dim_user_id',
    ]);
    expect(Object.keys(c.manifest.unit_tests)).toEqual(['unit_test.proj.dim_user.keeps_ids']);
  });

  it('records attached node, column, dependencies and test metadata', () => {
    const rel = tests['test.proj.relationships_dim_user_code__code__ref_codes_']!;
    expect(rel.attached_node).toBe('model.proj.dim_user');
    expect(rel.column_name).toBe('code');
    expect(rel.depends_on.nodes).toEqual(['model.proj.dim_user', 'seed.proj.codes']);
    expect(rel.test_metadata).toMatchObject({ name: 'relationships', kwargs: { to: "ref('codes')", field: 'code', column_name: 'code' } });
    expect(rel.compiled_code).toContain('`code` NOT IN (SELECT `code` FROM `analytics`.`codes`');
    expect(rel.declared_at).toEqual({ file: 'models/marts/schema.yml', line: 12 });
    expect(tests['test.proj.source_not_null_app_users_id']!.depends_on.nodes).toEqual(['source.proj.app.users']);
    expect(tests['test.proj.no_orphans']!.attached_node).toBeNull();
  });

  it('applies folder config, then the test config; `where` wraps the model', () => {
    const nn = tests['test.proj.not_null_dim_user_id']!;
    expect(nn.config).toMatchObject({ severity: 'WARN', limit: 10, tags: ['nightly', 'keys'] });
    const expr = tests['test.proj.expression_is_true_dim_user_id_0']!;
    expect(expr.config.severity).toBe('ERROR');
    expect(expr.compiled_code).toContain("FROM (SELECT * FROM `analytics`.`dim_user` WHERE code != '') AS dbt_subquery");
    expect(tests['test.proj.source_not_null_app_users_id']!.config.tags).toEqual([]);
  });

  it('writes tests into nodes, unit tests under unit_tests, and compiled test SQL', () => {
    writeCompileArtifacts(dir, 'target', c.manifest);
    const doc = JSON.parse(readFileSync(join(dir, 'target/manifest.json'), 'utf8'));
    expect(doc.nodes['test.proj.unique_dim_user_id'].resource_type).toBe('test');
    expect(doc.unit_tests['unit_test.proj.dim_user.keeps_ids'].resource_type).toBe('unit_test');
    expect(doc.child_map['model.proj.dim_user']).toContain('test.proj.unique_dim_user_id');
    expect(doc.tests).toBeUndefined();
    const sql = readFileSync(join(dir, 'target/compiled/models/marts/schema.yml/unique_dim_user_id.sql'), 'utf8');
    expect(sql).toContain('HAVING count() > 1');
  });

  it('selects a test with any node it reads (indirect selection)', () => {
    const selected = selectNodes(selectableNodes(c.manifest), c.dag, ['codes'], undefined);
    expect([...selected].sort()).toEqual(['seed.proj.codes', 'test.proj.relationships_dim_user_code__code__ref_codes_']);
    const unit = selectNodes(selectableNodes(c.manifest), c.dag, ['dim_user'], undefined);
    expect(unit.has('unit_test.proj.dim_user.keeps_ids')).toBe(true);
    expect(unit.has('test.proj.no_orphans')).toBe(true);
  });

  it('gates the attached node, or the one downstream input of a singular test', () => {
    expect(gatesOf(tests['test.proj.relationships_dim_user_code__code__ref_codes_']!, c.dag)).toEqual(['model.proj.dim_user']);
    expect(gatesOf(tests['test.proj.no_orphans']!, c.dag)).toEqual(['model.proj.dim_user']);
  });
});

describe('bad test declarations (exit 2 before anything runs)', () => {
  const withSchema = (schema: string, extra: ProjectFiles = {}) => ({ ...BASE, 'models/marts/schema.yml': schema, ...extra });

  it('an unknown generic test names the closest one, with file and line', () => {
    const [err] = compileErrors(withSchema('models:\n  - name: dim_user\n    columns:\n      - name: id\n        data_tests: [not_nul]\n'));
    expect(err!.kind).toBe('invalid');
    expect(err!.message).toBe("unknown generic test 'not_nul' on column 'id' of model 'dim_user'");
    expect(err!.location).toEqual({ file: 'models/marts/schema.yml', line: 5 });
    expect(err!.hint).toBe("did you mean 'not_null'?");
  });

  it('relationships to an unknown ref', () => {
    const [err] = compileErrors(
      withSchema('models:\n  - name: dim_user\n    columns:\n      - name: code\n        data_tests:\n          - relationships: { to: "ref(\'code\')", field: code }\n'),
    );
    expect(err!.code).toBe('UNKNOWN_REF');
    expect(err!.message).toContain("unknown ref 'code'");
    expect(err!.location).toEqual({ file: 'models/marts/schema.yml', line: 6 });
    expect(err!.hint).toBe("did you mean 'codes'?");
  });

  it('a unit test for a model that does not exist', () => {
    const [err] = compileErrors(withSchema('unit_tests:\n  - name: t\n    model: dim_users\n    given: []\n    expect: { rows: [] }\n'));
    expect(err!.message).toBe("unit test 't' is for model 'dim_users', which does not exist");
    expect(err!.location).toEqual({ file: 'models/marts/schema.yml', line: 2 });
    expect(err!.hint).toBe("did you mean 'dim_user'?");
  });

  it('a test on a seed column that is not in the CSV header names test, seed and column', () => {
    const [err] = compileErrors({ ...BASE, 'seeds/props.yml': 'seeds:\n  - name: codes\n    columns:\n      - name: lable\n        data_tests: [not_null]\n' });
    expect(err!.message).toBe("test 'not_null' is on column 'lable', which seed 'codes' does not have");
    expect(err!.hint).toBe("did you mean 'label'?");
    expect(err!.location).toEqual({ file: 'seeds/props.yml', line: 5 });
  });

  it('collects several problems at once, and catches missing arguments and bad config', () => {
    const errs = compileErrors(
      withSchema(`models:
  - name: dim_user
    columns:
      - name: code
        data_tests:
          - accepted_values: { values: [] }
          - relationships: { to: "ref('codes')" }
          - unique: { config: { severity: fatal } }
`),
    );
    expect(errs.map((e) => e.message)).toEqual([
      "test 'accepted_values' needs a non-empty values list",
      "test 'relationships' needs field: (the column of the referenced model)",
      "test severity 'fatal' is not error or warn",
    ]);
  });
});
