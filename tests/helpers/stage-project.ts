import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Adapter } from '../../src/adapters/adapter.js';
import { loadProject } from '../../src/project/load-project.js';
import { stage } from '../../src/api/stage.js';
import { CollectingReporter } from '../../src/report/events.js';
import type { InvocationOptions } from '../../src/api/options.js';

/** Inline projects for the staging suites, staged through the API and read back through the adapter. */

const made: string[] = [];

export function stageProject(sourcesYml: string, files: Readonly<Record<string, string | Buffer>> = {}, target = 'dev:  { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-stage-'));
  made.push(dir);
  writeFiles(dir, {
    'project.yml': `name: staged\nversion: 1\ntarget: dev\ntargets:\n  ${target}\n`,
    'sources.yml': sourcesYml,
    ...files,
  });
  return dir;
}

export function writeFiles(dir: string, files: Readonly<Record<string, string | Buffer>>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

export function removeStageProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function runStage(dir: string, opts: Partial<InvocationOptions> = {}) {
  const reporter = new CollectingReporter();
  const outcome = await stage({ projectDir: dir, reporter, ...opts });
  const infos = reporter.events.flatMap((e) => (e.type === 'info' ? [e.message] : []));
  const warnings = reporter.events.flatMap((e) => (e.type === 'warning' ? [e.warning.message] : []));
  return { outcome, results: outcome.results, infos, warnings, events: reporter.events };
}

/** Runs queries against the project's warehouse, opened only for the callback. */
export async function withWarehouse<T>(dir: string, fn: (adapter: Adapter) => Promise<T>, opts: { env?: Record<string, string> } = {}): Promise<T> {
  const project = loadProject({ projectDir: dir, ...(opts.env ? { env: opts.env } : {}) });
  const adapter = await Adapter.connect(project.target);
  try {
    return await fn(adapter);
  } finally {
    await adapter.close();
  }
}

export async function rows<T = Record<string, unknown>>(dir: string, sql: string, opts: { env?: Record<string, string> } = {}): Promise<T[]> {
  return withWarehouse(dir, async (a) => (await a.query<T>(sql)).rows, opts);
}
