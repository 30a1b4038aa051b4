#!/usr/bin/env node
// Writes a dataset in the reference project's raw-input contract (DESIGN "Raw inputs") at any
// size, streaming, so 1M reviews / 5M events need tens of MB of memory, not GBs:
//   DIR/mysql/app.sql  DIR/events/YYYY/MM/DD/*.jsonl  DIR/exports/*.csv  DIR/ground-truth.json
// The dump is written in mariadb-dump's shape (header and DDL copied from the committed real
// dump data/mysql/app.sql) without needing a MariaDB. Build on it with
//   npx kiln build --vars '{data_root: DIR}'
// Usage: npm run gen:data -- --reviews N --events M --out DIR [--seed S] [--days D]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataset } from './lib/reference-data.mjs';
import { writeEvents, writeExports, writeTextDump } from './lib/writers.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    out[m[1]] = m[2] ?? argv[++i];
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!args.out) {
  console.error('usage: npm run gen:data -- --reviews N --events M --out DIR [--seed S] [--days D]');
  process.exit(2);
}
const outDir = resolve(args.out);
if (outDir === resolve(root, 'data')) {
  console.error('refusing to overwrite the committed sample in data/ (regenerate it with node scripts/make-app-dump.mjs)');
  process.exit(2);
}
const num = (k) => (args[k] === undefined ? undefined : Number(String(args[k]).replace(/_/g, '')));
const options = Object.fromEntries(Object.entries({
  reviews: num('reviews'), events: num('events'), seed: num('seed'), eventDays: num('days'),
}).filter(([, v]) => v !== undefined));
const dataset = createDataset(options);

const started = Date.now();
mkdirSync(outDir, { recursive: true });
await writeTextDump(dataset, join(outDir, 'mysql/app.sql'), { template: join(root, 'data/mysql/app.sql') });
await writeEvents(dataset, outDir);
await writeExports(dataset, outDir);
writeFileSync(join(outDir, 'ground-truth.json'), JSON.stringify(dataset.truth, null, 2) + '\n');
const o = dataset.options;
console.log(`wrote ${outDir}: ${o.contents} titles, ${o.users} users, ${o.reviews} reviews, ${dataset.truth.event_lines} events ` +
  `in ${((Date.now() - started) / 1000).toFixed(1)}s (peak RSS ${Math.round(process.memoryUsage().rss / 1e6)} MB)`);
