// Writes a dataset from reference-data.mjs to disk in the layout DESIGN's "Raw inputs" fixes:
// events/YYYY/MM/DD/*.jsonl, exports/*.csv (CRLF), mysql/app.sql. Everything streams.
import { once } from 'node:events';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { csvLine, NUMERIC_COLUMNS, rng, sqlValue, TABLE_COLUMNS } from './reference-data.mjs';

/** A write stream that respects backpressure, so large outputs never pile up in memory. */
export function sink(file) {
  mkdirSync(dirname(file), { recursive: true });
  const stream = createWriteStream(file);
  return {
    async write(text) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
    async close() {
      stream.end();
      await once(stream, 'finish');
    },
  };
}

export async function writeEvents(dataset, outDir) {
  let current = null;
  let out = null;
  let buffer = '';
  for (const [file, line] of dataset.events()) {
    if (file !== current) {
      if (out) { await out.write(buffer); buffer = ''; await out.close(); }
      out = sink(join(outDir, 'events', file));
      current = file;
    }
    buffer += line + '\n';
    if (buffer.length > 1 << 20) { await out.write(buffer); buffer = ''; }
  }
  if (out) { await out.write(buffer); await out.close(); }
}

export async function writeExports(dataset, outDir) {
  const r = rng(dataset.options.seed + 10);
  for (const [name, rows] of [['imdb_titles.csv', dataset.imdbRows()], ['metacritic_scores.csv', dataset.metacriticRows()]]) {
    const out = sink(join(outDir, 'exports', name));
    let first = true;
    for (const row of rows) {
      await out.write(first ? csvLine(row) : csvLine(row, r));
      first = false;
    }
    await out.close();
  }
}

/** Rows of the five app tables in mariadb-dump's (alphabetical) order, `reviews` as a generator. */
export function* appTables(dataset) {
  yield ['coming_soon_items', dataset.comingSoon];
  yield ['content', dataset.content];
  yield ['hero_carousel', dataset.hero];
  yield ['reviews', dataset.reviews()];
  yield ['users', dataset.users];
}

function nextId(dataset, table) {
  const o = dataset.options;
  return { coming_soon_items: o.comingSoon, content: o.contents, hero_carousel: o.heroSlides, reviews: o.reviews, users: o.users }[table] + 1;
}

export function valuesTuple(table, row) {
  return '(' + TABLE_COLUMNS[table].map((c) => sqlValue(row[c], { numeric: NUMERIC_COLUMNS.has(c) })).join(',') + ')';
}

/**
 * A dump in mariadb-dump's shape without a MariaDB: the header, DDL and trailer are taken from
 * the committed real dump (so both stay identical), the rows are written as extended INSERTs of
 * `batch` rows each, one row per line as mariadb-dump does.
 */
export async function writeTextDump(dataset, file, { template, batch = 2000 }) {
  const real = readFileSync(template, 'utf8');
  const firstData = real.indexOf('\n--\n-- Dumping data for table');
  const header = real.slice(0, real.indexOf('\n--\n-- Table structure for table'));
  const trailer = real.slice(real.lastIndexOf('/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;'));
  const ddlOf = (table) => {
    const startMarker = `\n--\n-- Table structure for table \`${table}\`\n--\n`;
    const s = real.indexOf(startMarker);
    const e = real.indexOf('\n--\n-- Dumping data for table', s);
    if (s < 0 || e < 0 || firstData < 0) throw new Error(`${template} has no DDL for ${table}`);
    return real.slice(s, e);
  };
  const out = sink(file);
  await out.write(header);
  for (const [table, rows] of appTables(dataset)) {
    await out.write(ddlOf(table).replace(/AUTO_INCREMENT=\d+/, `AUTO_INCREMENT=${nextId(dataset, table)}`));
    await out.write(`\n--\n-- Dumping data for table \`${table}\`\n--\n\nLOCK TABLES \`${table}\` WRITE;\n/*!40000 ALTER TABLE \`${table}\` DISABLE KEYS */;\n`);
    let pending = [];
    const flush = async () => {
      if (pending.length) await out.write(`INSERT INTO \`${table}\` VALUES\n${pending.join(',\n')};\n`);
      pending = [];
    };
    for (const row of rows) {
      pending.push(valuesTuple(table, row));
      if (pending.length >= batch) await flush();
    }
    await flush();
    await out.write(`/*!40000 ALTER TABLE \`${table}\` ENABLE KEYS */;\nUNLOCK TABLES;\n`);
  }
  await out.write(trailer);
  await out.close();
}
