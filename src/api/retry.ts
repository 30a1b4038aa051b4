import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { loadProject } from '../project/load-project.js';
import { readRunResults, type NodeResult } from '../report/run-results.js';
import type { InvocationOptions } from './options.js';
import { build, run, seed, snapshot, type CommandOutcome } from './run.js';

/** A command retry can repeat: `run`, `seed` or `build`. */
export type CommandRunner = (options: InvocationOptions) => Promise<CommandOutcome>;

/** Commands `retry` can repeat, by `args.which` of run_results.json. */
export const RETRYABLE: Readonly<Record<string, CommandRunner>> = { run, seed, snapshot, build };

/** What errored, failed or was skipped: exactly the nodes `result:` selects. */
export const RETRY_SELECTORS: readonly string[] = ['result:error', 'result:fail', 'result:skipped'];

/** What `retry` repeated, and the repeated command's outcome. */
export interface RetryOutcome {
  /** The command repeated (`args.which` of the last run). */
  readonly command: string;
  /** Unique ids of the previous run that errored, failed or were skipped. */
  readonly retried: readonly string[];
  /** Null when there was nothing to retry (nothing ran, run_results.json was left as it was). */
  readonly outcome: CommandOutcome | null;
}

/**
 * `kiln retry`: reads the last `target/run_results.json` and reruns, with the same command kind
 * (`args.which`), the nodes that errored, failed or were skipped, through the `result:`
 * selectors. The last run's target, threads and --full-refresh carry over unless given again.
 */
export async function retry(options: InvocationOptions, commands: Readonly<Record<string, CommandRunner>> = RETRYABLE): Promise<RetryOutcome> {
  const project = loadProject({
    ...(options.projectDir ? { projectDir: options.projectDir } : {}),
    ...(options.target ? { target: options.target } : {}),
    ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
    ...(options.vars ? { vars: options.vars } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const shownAs = `${project.config.targetPath}/run_results.json`;
  const previous = readRunResults(join(project.root, project.config.targetPath, 'run_results.json'), shownAs);
  if (!previous) {
    throw new KilnError('STATE_INVALID', `nothing to retry: no ${shownAs}`, {
      hint: 'retry repeats what failed in the last run, build or seed; run one first',
    });
  }
  const command = String(previous.args?.which ?? '');
  const runner = commands[command];
  if (!runner) {
    throw new KilnError('STATE_INVALID', `the last command was '${command || 'unknown'}', which retry cannot repeat`, {
      hint: `retry repeats ${Object.keys(commands).join(', ')}`,
    });
  }
  const retried = previous.results.filter((r) => r.status === 'error' || r.status === 'fail' || r.status === 'skipped').map((r) => r.unique_id);
  if (retried.length === 0) return { command, retried, outcome: null };

  options.reporter?.emit({ type: 'info', message: `Retrying ${retried.length} node${retried.length === 1 ? '' : 's'} that did not succeed in the last ${command}` });
  const args = previous.args ?? {};
  const threads = typeof args.threads === 'number' ? args.threads : undefined;
  const outcome = await runner({
    ...options,
    ...(options.target === undefined && typeof args.target === 'string' ? { target: args.target } : {}),
    ...(options.threads === undefined && threads ? { threads } : {}),
    fullRefresh: options.fullRefresh === true || args.full_refresh === true,
    // The previous results are read from target/, never from a --state folder.
    state: undefined,
    select: RETRY_SELECTORS,
    ...failedBatches(previous.results),
    exclude: options.exclude ?? [],
  });
  return { command, retried, outcome };
}

/** Microbatch models whose batches failed last time: retry reruns only those batches. */
function failedBatches(results: readonly NodeResult[]): { retryBatches?: Record<string, ReadonlyArray<readonly [string, string]>> } {
  const out: Record<string, ReadonlyArray<readonly [string, string]>> = {};
  for (const r of results) if (r.status === 'error' && r.batch_results?.failed.length) out[r.unique_id] = r.batch_results.failed;
  return Object.keys(out).length ? { retryBatches: out } : {};
}
