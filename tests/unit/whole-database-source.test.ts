import { afterAll, describe, expect, it } from 'vitest';
import { compileProject, type CompiledProject } from '../../src/compile/compile-project.js';
import type { ModelManifestNode } from '../../src/compile/manifest.js';
import { recompileProject } from '../../src/compile/recompile-project.js';
import { KilnError, KilnErrors } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import { projectYml, removeProjects, writeFiles, writeProject, type ProjectFiles } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

/** A MySQL source without `tables:`: every table of its database. Compile needs no database. */
const WHOLE = `sources:
  - name: app
    description: The app database.
    loader: mysql
    dump: data/app.sql
    max_rejected: 5
    connection: { host: "{{ env_var('MYSQL_HOST', '') }}", database: app, user: kiln, password: "{{ env_var('MYSQL_PASSWORD', '') }}" }
  - name: exports
    loader: csv
    tables:
      - name: titles
        path: data/titles.csv
`;

function compileDir(dir: string): CompiledProject {
  return compileProject(loadProject({ projectDir: dir, env: { MYSQL_PASSWORD: 'pw-Secret-7' } }), { invocationId: 'inv', runStartedAt: new Date('2025-01-02T03:04:05Z') });
}

const compile = (files: ProjectFiles) => compileDir(writeProject(files));

function errorsOf(files: ProjectFiles): KilnError[] {
  try {
    compile(files);
  } catch (err) {
    if (err instanceof KilnErrors) return [...err.errors];
    if (err instanceof KilnError) return [err];
    throw err;
  }
  throw new Error('expected compile to fail');
}

const project = (models: ProjectFiles, sources = WHOLE): ProjectFiles => ({ 'project.yml': projectYml('proj'), 'sources.yml': sources, ...models });

describe('a mysql source without tables:', () => {
  it('gives each table a model reads a source node, like a declared table', () => {
    const c = compile(
      project({
        'models/stg_users.sql': "SELECT id FROM {{ source('app', 'users') }} JOIN {{ source('app', 'reviews') }} USING (id)",
        'models/stg_titles.sql': "SELECT * FROM {{ source('exports', 'titles') }}",
      }),
    );
    expect(Object.keys(c.manifest.sources).sort()).toEqual(['source.proj.app.reviews', 'source.proj.app.users', 'source.proj.exports.titles']);
    expect(c.manifest.sources['source.proj.app.users']).toMatchObject({
      resource_type: 'source',
      name: 'users',
      source_name: 'app',
      identifier: 'app__users',
      relation_name: '`raw`.`app__users`',
      loader: 'mysql',
      original_file_path: 'sources.yml',
      fqn: ['proj', 'app', 'users'],
      description: 'The app database.',
    });
    // The source's options are every table's options; the password never reaches the manifest.
    expect(c.manifest.sources['source.proj.app.users']!.source_meta).toMatchObject({ dump: 'data/app.sql', max_rejected: 5 });
    expect(JSON.stringify(c.manifest)).not.toContain('pw-Secret-7');
    const stg = c.manifest.nodes['model.proj.stg_users'] as ModelManifestNode;
    expect(stg.compiled_code).toBe('SELECT id FROM `raw`.`app__users` JOIN `raw`.`app__reviews` USING (id)');
    expect([...stg.depends_on.nodes].sort()).toEqual(['source.proj.app.reviews', 'source.proj.app.users']);
    expect(c.manifest.child_map['source.proj.app.users']).toEqual(['model.proj.stg_users']);
    expect(c.parsed.sources.map((s) => s.uniqueId)).toContain('source.proj.app.users');
  });

  it('a table only a singular test reads is a node too, and the test depends on it', () => {
    const c = compile(project({ 'tests/data/no_orphans.sql': "SELECT * FROM {{ source('app', 'audit_log') }} WHERE user_id IS NULL" }));
    expect(Object.keys(c.manifest.sources)).toContain('source.proj.app.audit_log');
    expect(c.manifest.tests['test.proj.no_orphans']!.depends_on.nodes).toEqual(['source.proj.app.audit_log']);
    expect(c.dag.has('source.proj.app.audit_log')).toBe(true);
  });

  it('has no nodes while nothing reads it (its tables are listed when staging)', () => {
    const c = compile(project({ 'models/m.sql': 'SELECT 1 AS x' }));
    expect(Object.keys(c.manifest.sources)).toEqual(['source.proj.exports.titles']);
  });

  it('a csv source without tables: is still an error with its file, line and a hint', () => {
    const errors = errorsOf(project({}, WHOLE.replace(/  - name: exports\n    loader: csv\n    tables:\n      - name: titles\n        path: data\/titles.csv\n/, '  - name: exports\n    loader: csv\n')));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe("source 'exports' needs a 'tables' list");
    expect(errors[0]!.location).toEqual({ file: 'sources.yml', line: 8 });
    expect(errors[0]!.hint).toContain('only a loader: mysql source may leave tables: out');
  });

  it('a source declared twice when one is whole-database, and mysql_table on it, are errors', () => {
    const twice = errorsOf(project({}, `${WHOLE}  - name: app\n    loader: mysql\n    dump: other.sql\n    tables: [{ name: users }]\n`));
    expect(twice.map((e) => e.message)).toEqual(["source 'app' is declared twice (also at sources.yml:2)"]);
    const renamed = errorsOf(project({}, WHOLE.replace('max_rejected: 5', 'mysql_table: users')));
    expect(renamed[0]!.message).toContain('mysql_table and identifier name one table');
  });

  it('a table that would load into a declared table’s raw table is an error', () => {
    const clash = `${WHOLE}  - name: other
    loader: csv
    tables: [{ name: t, identifier: app__users, path: data/t.csv }]
`;
    const errors = errorsOf(project({ 'models/m.sql': "SELECT * FROM {{ source('app', 'users') }}" }, clash));
    expect(errors[0]!.message).toBe('source tables other.t and app.users would both load into raw.app__users');
  });

  it('reading another table compiles afresh (the node list changes); other edits recompile in place', () => {
    const dir = writeProject(project({ 'models/m.sql': "SELECT * FROM {{ source('app', 'users') }}", 'models/n.sql': 'SELECT 1 AS x' }));
    const first = compileDir(dir);
    writeFiles(dir, { 'models/n.sql': "SELECT * FROM {{ source('app', 'content') }}" });
    const opts = { invocationId: 'inv', runStartedAt: new Date('2025-01-02T03:04:05Z') };
    expect(recompileProject(first, ['models/n.sql'], opts)).toBeUndefined();
    const again = compileDir(dir);
    expect(Object.keys(again.manifest.sources).sort()).toEqual(['source.proj.app.content', 'source.proj.app.users', 'source.proj.exports.titles']);
    expect(again.manifest.parent_map['model.proj.n']).toEqual(['source.proj.app.content']);
    writeFiles(dir, { 'models/n.sql': "SELECT 2 AS y FROM {{ source('app', 'content') }}" });
    const third = recompileProject(again, ['models/n.sql'], opts);
    expect(third).toBeDefined();
    expect(Object.keys(third!.manifest.sources).sort()).toEqual(Object.keys(again.manifest.sources).sort());
  });
});
