import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCycles, forbiddenImports, readImportGraph } from '../../scripts/check-imports.mjs';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));

describe('findCycles', () => {
  it('finds nothing in a layered graph', () => {
    expect(findCycles(graph({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] }))).toEqual([]);
  });

  it('lists a cycle as a path back to its start', () => {
    expect(findCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts'], 'd.ts': ['a.ts'] }))).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('shows every import that takes part in a cycle, one shortest cycle each', () => {
    // b ↔ c inside a → b → c → a: both cycles are listed, not only the first one found.
    const cycles = findCycles(graph({ 'a.ts': ['b.ts'], 'b.ts': ['c.ts'], 'c.ts': ['a.ts', 'b.ts'] }));
    expect(cycles).toEqual([
      ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
      ['c.ts', 'b.ts', 'c.ts'],
    ]);
  });

  it('finds a module that imports itself and cycles in separate groups', () => {
    const cycles = findCycles(graph({ 'a.ts': ['a.ts'], 'x.ts': ['y.ts'], 'y.ts': ['x.ts'] }));
    expect(cycles).toEqual([['a.ts', 'a.ts'], ['x.ts', 'y.ts', 'x.ts']]);
  });

  it('ignores imports of modules outside the graph', () => {
    expect(findCycles(graph({ 'a.ts': ['gone.ts'] }))).toEqual([]);
  });
});

describe('readImportGraph', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiln-imports-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  it('counts type-only, re-export and dynamic imports, and not import text in comments or strings', () => {
    write('api/run.ts', "export type Phase = { name: string };\n");
    write('stage/a.ts', "// import { x } from '../api/run.js';\nconst s = `import '../api/run.js'`;\nimport type { Phase } from '../api/run.js';\n");
    write('stage/b.ts', "export { a } from './a.js';\nexport const load = () => import('../api/run.js');\n");
    const g = readImportGraph(root);
    expect(g.get('stage/a.ts')).toEqual([{ to: 'api/run.ts', line: 3 }]);
    expect(g.get('stage/b.ts')).toEqual([
      { to: 'stage/a.ts', line: 1 },
      { to: 'api/run.ts', line: 2 },
    ]);
    expect(forbiddenImports(g)).toEqual([
      { file: 'stage/a.ts', line: 3, to: 'api/run.ts' },
      { file: 'stage/b.ts', line: 2, to: 'api/run.ts' },
    ]);
  });
});
