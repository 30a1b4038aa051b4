import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject, type CompiledProject, type CompileOptions } from '../../src/compile/compile-project.js';
import type { ModelManifestNode } from '../../src/compile/manifest.js';
import { manifestArtifact } from '../../src/compile/manifest-artifact.js';
import { recompileProject } from '../../src/compile/recompile-project.js';
import { modelSql, testSql } from '../../src/compile/execution-manifest.js';
import { KilnError, KilnErrors } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Files = Record<string, string | null>;

function write(dir: string, files: Files): void {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    if (text === null) unlinkSync(path);
    else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
  }
}

const opts = (n: number): CompileOptions => ({ invocationId: `inv-${n}`, runStartedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, n)) });
const full = (dir: string, n: number) => compileProject(loadProject({ projectDir: dir, env: {} }), opts(n));

const PROJECT = 'name: proj\ntarget: dev\ntargets:\n  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }\n';
const BASE: Files = {
  'project.yml': PROJECT,
  'sources.yml': 'sources:\n  - name: app\n    tables: [{ name: users }]\n',
  'seeds/codes.csv': 'code,label\nA,a\n',
  'macros/upper_of.sql': '{% macro upper_of(c) %}upper({{ c }}){% endmacro %}',
  'models/stg_users.sql': "SELECT id, {{ upper_of('name') }} AS name FROM {{ source('app', 'users') }}",
  'models/eph.sql': "{{ config(materialized='ephemeral') }}\nSELECT id FROM {{ ref('stg_users') }} WHERE id > 0",
  'models/dim_user.sql': "{{ config(materialized='table') }}\nSELECT u.id, c.label FROM {{ ref('eph') }} AS u CROSS JOIN {{ ref('codes') }} AS c",
  'models/fct.sql': "SELECT id FROM {{ ref('dim_user') }}",
  'models/leaf.sql': "SELECT 1 AS x FROM {{ ref('stg_users') }}",
  'models/schema.yml': 'models:\n  - name: dim_user\n    columns:\n      - name: id\n        data_tests: [unique, not_null]\n',
  'tests/fct_positive.sql': "SELECT * FROM {{ ref('fct') }} WHERE id < 0",
};

/** Compiles BASE, applies `change`, then recompiles incrementally and from scratch. */
function both(change: Files, base: Files = BASE): { dir: string; before: CompiledProject; incremental: CompiledProject | undefined; fresh: () => CompiledProject } {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-recompile-'));
  dirs.push(dir);
  write(dir, base);
  const before = full(dir, 1);
  write(dir, change);
  const incremental = recompileProject(before, Object.keys(change), opts(2));
  return { dir, before, incremental, fresh: () => full(dir, 2) };
}

function expectSame(incremental: CompiledProject | undefined, fresh: CompiledProject): void {
  expect(incremental).toBeDefined();
  const a = incremental!;
  expect(JSON.stringify(manifestArtifact(a.manifest))).toBe(JSON.stringify(manifestArtifact(fresh.manifest)));
  expect(a.warnings).toEqual(fresh.warnings);
  expect(a.dag.nodeIds).toEqual(fresh.dag.nodeIds);
  for (const id of fresh.dag.nodeIds) {
    expect(a.dag.parents(id)).toEqual(fresh.dag.parents(id));
    expect(a.dag.children(id)).toEqual(fresh.dag.children(id));
  }
  expect(a.parsed.models.map((m) => m.rawCode)).toEqual(fresh.parsed.models.map((m) => m.rawCode));
  // The execution manifest too: everything a run executes from.
  expect(a.execution).toEqual(fresh.execution);
  for (const style of ['cte', 'subquery'] as const) {
    for (const id of Object.keys(fresh.manifest.tests)) expect(testSql(a.execution, id, style)).toBe(testSql(fresh.execution, id, style));
    const sqlOf = (c: CompiledProject) => {
      const m = c.execution.models['model.proj.fct'];
      return m && 'sql' in m ? modelSql(c.execution, m, { isIncremental: true, style }) : undefined;
    };
    expect(sqlOf(a)).toBe(sqlOf(fresh));
    expect(sqlOf(a)).toBeTypeOf('string');
  }
}

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KilnErrors) return err.errors.map((e) => `${e.code} ${e.message} ${e.location?.file}:${e.location?.line}`).join('\n');
    if (err instanceof KilnError) return `${err.code} ${err.message} ${err.location?.file}:${err.location?.line}`;
    throw err;
  }
  throw new Error('expected a compile error');
}

const code = (c: CompiledProject, name: string) => (c.manifest.nodes[`model.proj.${name}`] as ModelManifestNode).compiled_code;

describe('recompileProject equals a full compile of the same files', () => {
  it('an edited model body: only that model changes', () => {
    const r = both({ 'models/leaf.sql': "SELECT 2 AS x FROM {{ ref('stg_users') }}" });
    expectSame(r.incremental, r.fresh());
    expect(code(r.incremental!, 'leaf')).toContain('SELECT 2 AS x');
    // Untouched models are the previous objects, not copies.
    expect(r.incremental!.manifest.nodes['model.proj.fct']).toBe(r.before.manifest.nodes['model.proj.fct']);
    expect(r.incremental!.dag).toBe(r.before.dag);
  });

  it('a changed config() moves the relation its dependants read', () => {
    const r = both({ 'models/dim_user.sql': "{{ config(materialized='table', database='marts', alias='users_dim') }}\nSELECT u.id, c.label FROM {{ ref('eph') }} AS u CROSS JOIN {{ ref('codes') }} AS c" });
    expectSame(r.incremental, r.fresh());
    expect(code(r.incremental!, 'fct')).toContain('`marts`.`users_dim`');
  });

  it('an edited ephemeral model changes the SQL of the models that inline it', () => {
    const r = both({ 'models/eph.sql': "{{ config(materialized='ephemeral') }}\nSELECT id FROM {{ ref('stg_users') }} WHERE id > 100" });
    expectSame(r.incremental, r.fresh());
    expect(code(r.incremental!, 'dim_user')).toContain('id > 100');
  });

  it('a model that becomes ephemeral, and one that stops being ephemeral', () => {
    const a = both({ 'models/stg_users.sql': "{{ config(materialized='ephemeral') }}\nSELECT id, {{ upper_of('name') }} AS name FROM {{ source('app', 'users') }}" });
    expectSame(a.incremental, a.fresh());
    expect(code(a.incremental!, 'leaf')).toContain('__kiln_cte__stg_users');
    const b = both({ 'models/eph.sql': "SELECT id FROM {{ ref('stg_users') }} WHERE id > 0" });
    expectSame(b.incremental, b.fresh());
    expect(code(b.incremental!, 'dim_user')).toContain('`analytics`.`eph`');
  });

  it('a new ref adds an edge; a removed one drops it', () => {
    const a = both({ 'models/leaf.sql': "SELECT 1 AS x FROM {{ ref('stg_users') }} JOIN {{ ref('fct') }} USING (id) JOIN {{ source('app', 'users') }} USING (id)" });
    expectSame(a.incremental, a.fresh());
    expect(a.incremental!.dag.parents('model.proj.leaf')).toContain('model.proj.fct');
    const b = both({ 'models/fct.sql': 'SELECT 1 AS id' });
    expectSame(b.incremental, b.fresh());
    expect(b.incremental!.manifest.child_map['model.proj.dim_user']).toEqual([]);
  });

  it('a new ref that closes a cycle fails like a full compile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-recompile-'));
    dirs.push(dir);
    write(dir, BASE);
    const before = full(dir, 1);
    write(dir, { 'models/stg_users.sql': "SELECT id FROM {{ ref('fct') }}" });
    const message = failure(() => recompileProject(before, ['models/stg_users.sql'], opts(2)));
    expect(message).toMatch(/^CYCLE /);
    expect(message).toBe(failure(() => full(dir, 2)));
  });

  it('template errors and unknown refs fail like a full compile', () => {
    for (const text of ["SELECT {{ ref('nope') }}", 'SELECT {% if %}', "SELECT {{ var('missing') }}"]) {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-recompile-'));
      dirs.push(dir);
      write(dir, BASE);
      const before = full(dir, 1);
      write(dir, { 'models/stg_users.sql': text });
      expect(failure(() => recompileProject(before, ['models/stg_users.sql'], opts(2)))).toBe(failure(() => full(dir, 2)));
    }
  });

  it('a model reading invocation_id renders again with the new invocation', () => {
    const base = { ...BASE, 'models/stamp.sql': "SELECT '{{ invocation_id }}' AS inv, '{{ run_started_at }}' AS at" };
    const r = both({ 'models/leaf.sql': "SELECT 3 AS x FROM {{ ref('stg_users') }}" }, base);
    expectSame(r.incremental, r.fresh());
    expect(code(r.incremental!, 'stamp')).toContain('inv-2');
  });

  it('several edits in a row stay equal to a full compile', () => {
    const r = both({ 'models/leaf.sql': "SELECT 4 AS x FROM {{ ref('eph') }}" });
    write(r.dir, { 'models/eph.sql': "{{ config(materialized='ephemeral', tags=['t']) }}\nSELECT id FROM {{ ref('stg_users') }}" });
    const again = recompileProject(r.incremental!, ['models/eph.sql'], opts(2));
    expectSame(again, r.fresh());
  });

  it('hands back undefined for anything but edits of existing model files', () => {
    const cases: Files[] = [
      { 'models/new_model.sql': 'SELECT 1 AS x' },
      { 'models/leaf.sql': null },
      { 'models/leaf.sql': null, 'models/leaf2.sql': "SELECT 1 AS x FROM {{ ref('stg_users') }}" },
      { 'macros/upper_of.sql': '{% macro upper_of(c) %}lower({{ c }}){% endmacro %}' },
      { 'models/schema.yml': 'models:\n  - name: dim_user\n' },
      { 'seeds/codes.csv': 'code,label\nB,b\n' },
      { 'tests/fct_positive.sql': "SELECT * FROM {{ ref('fct') }} WHERE id < 1" },
      { 'models/leaf.sql': "{{ config(enabled=false) }}\nSELECT 1 AS x" },
    ];
    for (const change of cases) expect(both(change).incremental).toBeUndefined();
  });
});
