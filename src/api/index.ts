/**
 * kiln's programmatic API: every CLI command as a function. Commands take the CLI's flags as an
 * options object, report progress as {@link KilnEvent}s through `options.reporter` (nothing is
 * printed) and throw {@link KilnError}s (or {@link KilnErrors}) instead of exiting.
 *
 * @example
 * ```ts
 * import { build, CollectingReporter } from 'kiln-clickhouse';
 * const { results } = await build({ projectDir: 'my-project', reporter: new CollectingReporter() });
 * ```
 *
 * @packageDocumentation
 */

/** `kiln run`, `kiln seed`, `kiln build`: materialize seeds and models (build also stages sources and runs tests), in one DAG. */
export { build, run, seed, snapshot, type CommandOutcome } from './run.js';

/** `kiln test`: the selected data tests and unit tests against what is already built. */
export { test } from './test.js';

/** `kiln stage` loads sources into raw tables; `kiln freshness` checks them against their freshness rules. */
export { freshness, stage } from './stage.js';

/** `kiln retry`: reruns what errored, failed or was skipped in the last run, build or seed. */
export { retry, type CommandRunner, type RetryOutcome } from './retry.js';

/** `kiln compile`, `kiln ls`, `kiln show`, `kiln clean`: the project without building it. */
export { clean, compile, list, show, type ListedNode } from './inspect.js';

/** `kiln docs generate` and `kiln docs serve`: the self-contained documentation site. */
export { docsGenerate, docsServe, type DocsOptions, type DocsOutcome, type DocsServer } from './docs.js';

/** `kiln watch`: build once, then rebuild what each saved change touches. */
export { watch, type RebuildReport, type WatchOptions, type WatchSession } from './watch.js';

/** `kiln unlock`: removes a target's run lock left by a run that died, and says whose it was. */
export { unlock, type UnlockOutcome } from './unlock.js';

/** `kiln init`: a new project's files in an empty folder. */
export { initProject } from './init.js';

/** `kiln deps`: install packages.yml's packages into dbt_packages/. */
export { installPackages, type DepsOptions, type DepsOutcome, type InstalledPackage } from './deps.js';

/** The flags every command shares: project folder, target, vars, selection, threads, reporter. */
export type { InvocationOptions } from './options.js';

/** One command's compiled project and selection, as returned in a {@link CommandOutcome}. */
export type { Invocation } from './invocation.js';

/** What a command tells its user, as events; {@link CollectingReporter} keeps them for inspection. */
export { CollectingReporter, silentReporter, type KilnEvent, type Reporter } from '../report/events.js';

/** One node's result, as written to `target/run_results.json`. */
export type { NodeResult, NodeStatus, RunResults } from '../report/run-results.js';

/** Errors are values with a code, a `file:line` location and a hint; {@link formatError} renders one as the CLI does. */
export { formatError, KilnError, KilnErrors, type ErrorCode, type ErrorKind, type SourceLocation, type Warning } from '../errors.js';
