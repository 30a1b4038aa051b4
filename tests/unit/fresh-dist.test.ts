import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { staleDist } from '../harness/fresh-dist.js';
import { removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

/** A checkout with src/cli/main.ts and src/errors.ts built to dist/ at `builtAt`, each source last saved at `savedAt`. */
function checkout(savedAt: number, builtAt: number, omit: string[] = []): string {
  const files = ['cli/main', 'errors'];
  const dir = writeProject(Object.fromEntries(files.flatMap((f) => [[`src/${f}.ts`, ''], ...(omit.includes(f) ? [] : [[`dist/${f}.js`, '']])])));
  for (const f of files) {
    utimesSync(join(dir, `src/${f}.ts`), savedAt, savedAt);
    if (!omit.includes(f)) utimesSync(join(dir, `dist/${f}.js`), builtAt, builtAt);
  }
  return dir;
}

describe('the integration suite refuses a dist/ older than src/', () => {
  it('accepts a dist/ built after every source', () => {
    expect(staleDist(checkout(1_000, 2_000))).toBeNull();
  });

  it('names the sources changed since the build and says to build', () => {
    const dir = checkout(1_000, 2_000);
    utimesSync(join(dir, 'src/cli/main.ts'), 3_000, 3_000);
    expect(staleDist(dir)).toBe('dist/ is older than src/: run npm run build (changed since the last build: src/cli/main.ts)');
  });

  it('counts a source with no built file as stale', () => {
    expect(staleDist(checkout(1_000, 2_000, ['errors']))).toMatch(/run npm run build \(changed since the last build: src\/errors\.ts\)/);
  });
});
