#!/usr/bin/env node
// Bundles the docs page (src/docs/page/main.ts and what it imports: kiln's selector, dagre,
// Chart.js) into one browser script, and its styles into one stylesheet, under dist/docs/.
// src/docs/site-html.ts inlines both into index.html, so the page works offline from file://.
// Run by `npm run build` after tsc, which type-checks the page (esbuild only strips the types).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'src', 'docs', 'page');

await build({
  entryPoints: [
    { in: join(page, 'main.ts'), out: 'page.bundle' },
    { in: join(page, 'docs-page.css'), out: 'page.bundle' },
  ],
  outdir: join(root, 'dist', 'docs'),
  bundle: true,
  // A classic script: the page is opened from file://, where module scripts are more restricted.
  format: 'iife',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  // Library licence banners go at the end of the bundle, as their own minified builds kept them.
  legalComments: 'eof',
  logLevel: 'warning',
});
