import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runResults, writeProject } from './kiln-cli.js';

/** A copy of the reference project: models, macros, seeds, snapshots, tests, sources and the sample data. */
export function referenceProject(): string {
  const dir = writeProject({}, 'kiln-reference-');
  for (const entry of ['project.yml', 'sources.yml', 'models', 'macros', 'seeds', 'snapshots', 'tests/data', 'data']) {
    cpSync(join(REPO_ROOT, entry), join(dir, entry), { recursive: true });
  }
  return dir;
}

/** The nodes of a build that did not succeed or pass, with their messages (empty when all did). */
export function notPassed(dir: string): string[] {
  return [...runResults(dir).values()].filter((r) => r.status !== 'success' && r.status !== 'pass').map((r) => `${r.unique_id}: ${r.status} ${r.message ?? ''}`);
}

/** The daily metrics the dashboards read, one text per row, in key order. */
export const DAILY_METRICS =
  "SELECT concat(toString(content_id), ' ', toString(date), ' ', toString(avg_rating), ' ', toString(reviews_count), ' ', toString(hype_index)) AS row FROM analytics.content_metrics_daily ORDER BY content_id, date";

/** `dump` with `rows` (each `(id,content_id,user_id,rating,'created_at','updated_at')`) appended to its reviews. */
export function withReviews(dump: string, rows: readonly string[]): string {
  const insert = dump.indexOf('INSERT INTO `reviews` VALUES');
  const end = insert < 0 ? -1 : dump.indexOf(');\n', insert);
  if (end < 0) throw new Error('the dump has no INSERT of reviews ending a line with );');
  return `${dump.slice(0, end + 1)},\n${rows.join(',\n')}${dump.slice(end + 1)}`;
}
