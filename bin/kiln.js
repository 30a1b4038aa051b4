#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script), and
// bundled into one module (scripts/bundle-cli.mjs) so a command starts without loading ~140 files.
import('../dist/cli/kiln.bundle.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('kiln: dist/ is missing; run `npm install` (or `npm run build`) in the kiln checkout first');
    process.exit(2);
  }
  throw err;
});
