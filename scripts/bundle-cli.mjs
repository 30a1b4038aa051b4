#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and every kiln module it imports) into one ES module,
// dist/cli/kiln.bundle.js, which bin/kiln.js loads. Node loads ~140 small ES modules one by one
// (resolve, read, compile, link each), which cost every command ~0.1 s before it did anything;
// one file loads in a fraction of that. Packages stay external: they are loaded from
// node_modules as installed (chdb is native, nunjucks loads its own parts at run time).
// The programmatic API (dist/api/index.js) stays unbundled. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');

// Chunk names carry a content hash: drop the previous build's, so old chunks do not pile up.
if (existsSync(outdir)) for (const name of readdirSync(outdir)) if (/^kiln\.(bundle|chunk-)/.test(name)) rmSync(join(outdir, name));

await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  // dist/cli/, like the module it replaces: paths the code resolves from its own location
  // (the docs bundles, two folders up then dist/docs) stay the same, chunks included.
  outdir,
  entryNames: 'kiln.bundle',
  chunkNames: 'kiln.chunk-[hash]',
  bundle: true,
  // Code kiln imports on demand (the embedded engine, the HTTP driver) stays in chunks loaded
  // on demand, so `kiln compile` never loads chdb.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: ['node20'],
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
