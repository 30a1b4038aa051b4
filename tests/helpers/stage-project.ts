import { stage } from '../../src/api/stage.js';
import type { InvocationOptions } from '../../src/api/options.js';
import { CollectingReporter } from '../../src/report/events.js';
import { writeProject } from './kiln-cli.js';

/**
 * Inline projects for the staging suites, staged through the API in this process (read them back
 * with `queryTarget`). Folders are removed by `removeProjects()`.
 */

const EMBEDDED_TARGET = 'dev:  { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }';

export function stageProject(sourcesYml: string, files: Readonly<Record<string, string | Buffer>> = {}, target = EMBEDDED_TARGET): string {
  return writeProject(
    {
      'project.yml': `name: staged\nversion: 1\ntarget: dev\ntargets:\n  ${target}\n`,
      'sources.yml': sourcesYml,
      ...files,
    },
    'kiln-stage-',
  );
}

export async function runStage(dir: string, opts: Partial<InvocationOptions> = {}) {
  const reporter = new CollectingReporter();
  const outcome = await stage({ projectDir: dir, reporter, ...opts });
  const infos = reporter.events.flatMap((e) => (e.type === 'info' ? [e.message] : []));
  const warnings = reporter.events.flatMap((e) => (e.type === 'warning' ? [e.warning.message] : []));
  return { outcome, results: outcome.results, infos, warnings, events: reporter.events };
}
