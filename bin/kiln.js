#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('kiln: dist/ is missing; run `npm install` (or `npm run build`) in the kiln checkout first');
    process.exit(2);
  }
  throw err;
});
