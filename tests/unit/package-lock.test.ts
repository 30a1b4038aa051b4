import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

// `npm ci` refuses a lock that lacks any of chdb's per-platform optional packages. The registry
// this project is built against serves only some of them, and an `npm install` here drops the
// others from the lock again; their entries (version, os, cpu) are kept by hand.
it("package-lock.json lists every one of chdb's platform packages, so `npm ci` accepts it", () => {
  const lock = read('package-lock.json');
  const chdb = lock.packages['node_modules/chdb'];
  const missing = Object.keys(chdb.optionalDependencies ?? {}).filter((name) => !lock.packages[`node_modules/${name}`]);
  expect(missing).toEqual([]);
});
