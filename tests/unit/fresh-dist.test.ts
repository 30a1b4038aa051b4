import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleDist } from '../harness/fresh-dist.js';
import { removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const SOURCES = ['src/cli/main.ts', 'src/errors.ts', 'src/docs/page/docs-page.css'];
const BUILT = ['dist/cli/main.js', 'dist/errors.js', 'dist/docs/page.bundle.css'];

/** A checkout whose sources were last saved at `savedAt` and built to dist/ at `builtAt` (seconds). */
function checkout(savedAt: number, builtAt: number, built = BUILT): string {
  const dir = writeProject(Object.fromEntries([...SOURCES, ...built].map((f) => [f, ''])));
  for (const f of SOURCES) utimesSync(join(dir, f), savedAt, savedAt);
  for (const f of built) utimesSync(join(dir, f), builtAt, builtAt);
  return dir;
}

describe('the integration suite refuses a dist/ older than src/', () => {
  it('accepts a dist/ built after every source', () => {
    expect(staleDist(checkout(1_000, 2_000))).toBeNull();
  });

  it('names the sources changed since the build, stylesheets too, and says to build', () => {
    const dir = checkout(1_000, 2_000);
    utimesSync(join(dir, 'src/cli/main.ts'), 3_000, 3_000);
    expect(staleDist(dir)).toBe('dist/ is older than src/: run npm run build (changed since the last build: src/cli/main.ts)');
    utimesSync(join(dir, 'src/docs/page/docs-page.css'), 3_000, 3_000);
    expect(staleDist(dir)).toMatch(/^dist\/ is older than src\/: run npm run build \(changed since the last build: .*src\/docs\/page\/docs-page\.css/);
  });

  it('says to build when dist/ is missing', () => {
    expect(staleDist(checkout(1_000, 2_000, []))).toBe('dist/ is missing: run npm run build');
  });
});
