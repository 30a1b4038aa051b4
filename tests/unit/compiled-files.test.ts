import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileProject } from '../../src/compile/compile-project.js';
import { writeChangedArtifacts, writeCompileArtifacts } from '../../src/compile/write-artifacts.js';
import { loadProject } from '../../src/project/load-project.js';
import { memoryProjectFiles } from '../../src/project/project-files.js';
import { projectYml, removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const opts = { invocationId: 'inv', runStartedAt: new Date('2025-01-02T03:04:05Z') };

/** Compiles `models` (path → SQL) as they would be on disk under `dir`, without touching the project's files. */
function compileAt(dir: string, models: Record<string, string>) {
  const files = memoryProjectFiles(dir, { 'project.yml': projectYml('proj'), ...models });
  return compileProject(loadProject({ files, env: {} }), opts, files);
}

describe('compiled files', () => {
  const dir = writeProject({ 'project.yml': projectYml('proj') });
  const compiledFile = join(dir, 'target/compiled/models/a.sql');
  const a1 = { 'models/a.sql': 'SELECT 1 AS id', 'models/b.sql': "SELECT * FROM {{ ref('a') }}" };
  const a2 = { ...a1, 'models/a.sql': 'SELECT 2 AS id' };

  it('a warm compile leaves unchanged files alone, and every write keeps them true to the manifest', () => {
    writeCompileArtifacts(dir, 'target', compileAt(dir, a1).manifest);
    expect(readFileSync(compiledFile, 'utf8')).toBe('SELECT 1 AS id');
    const old = new Date('2020-01-01T00:00:00Z');
    utimesSync(compiledFile, old, old);
    writeCompileArtifacts(dir, 'target', compileAt(dir, a1).manifest);
    expect(statSync(compiledFile).mtime.toISOString()).toBe(old.toISOString());

    // A watch rebuild writes the edited model's file; reverting it, then a full compile, writes it back.
    const first = compileAt(dir, a1);
    writeChangedArtifacts(dir, 'target', compileAt(dir, a2).manifest, first.manifest);
    expect(readFileSync(compiledFile, 'utf8')).toBe('SELECT 2 AS id');
    writeCompileArtifacts(dir, 'target', compileAt(dir, a1).manifest);
    expect(readFileSync(compiledFile, 'utf8')).toBe('SELECT 1 AS id');
    expect(readFileSync(join(dir, 'target/compiled/models/b.sql'), 'utf8')).toBe('SELECT * FROM `analytics`.`a`');
  });
});
