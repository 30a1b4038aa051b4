import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { KILN_VERSION } from '../compile/compile-project.js';
import { runSteps, type ExecStep } from '../execute/run-steps.js';
import { linkSteps } from '../execute/link-steps.js';
import type { Phase, RunContext } from '../execute/phase.js';
import { prepareWarehouse } from '../execute/prepare-warehouse.js';
import { planNodes, type StepKind, type WarehouseState } from '../plan/plan.js';
import type { NodeResult, RunResults } from '../report/run-results.js';
import { LAST_RESULTS_FILE, mergeLastResults, writeJson } from '../report/run-results.js';
import { junitXml, writeText } from '../report/junit.js';
import { openInvocation, type Invocation } from './invocation.js';
import { checkPhases } from './validate.js';
import { checkContractsBeforeRun, materializeSteps } from './model-steps.js';
import { testPhase } from '../testing/test-phase.js';
import { stagePhase } from '../stage/stage-phase.js';
import { refeedPhase } from './refeed-phase.js';
import type { InvocationOptions } from './options.js';
import { openWarehouse, threadsOf, type WarehouseSession } from './warehouse.js';

/** What a command that runs nodes returns: each node's result, as written to run_results.json. */
export interface CommandOutcome {
  readonly results: readonly NodeResult[];
  readonly elapsedSeconds: number;
  readonly invocation: Invocation;
}

/** Seeds and/or models of the selection, materialized. */
export function materializePhase(kinds: ReadonlySet<StepKind>): Phase {
  const plan = (ctx: RunContext, state: WarehouseState) =>
    planNodes(ctx.compiled.manifest, ctx.compiled.dag, ctx.selected, state, kinds);
  return {
    name: [...kinds].join('+'),
    checks: { kinds: [...kinds] },
    assertRunnable: (ctx) => assertNoCustomMaterialization(ctx, kinds),
    relations: (ctx) => plan(ctx, { relations: new Map() }).map((s) => s.relation),
    steps: async (ctx, adapter, state) => {
      const planned = plan(ctx, state);
      const steps = materializeSteps(ctx, adapter, planned);
      await checkContractsBeforeRun(ctx, adapter, planned);
      return steps;
    },
  };
}

/** A selected model whose materialization only a `{% materialization %}` block defines: kiln cannot build it. */
function assertNoCustomMaterialization(ctx: RunContext, kinds: ReadonlySet<StepKind>): void {
  const { manifest, execution } = ctx.compiled;
  const refused = Object.entries(execution.unrunnable ?? {}).filter(([id]) => ctx.selected.has(id) && kinds.has(manifest.nodes[id]!.resource_type as StepKind));
  if (refused.length === 0) return;
  const [id, m] = refused[0]!;
  const node = manifest.nodes[id]!;
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more: ${refused.slice(1, 4).map(([i]) => manifest.nodes[i]!.name).join(', ')}${refused.length > 4 ? ', …' : ''})` : '';
  throw new KilnError('CONFIG_INVALID', `model '${node.name}' uses materialization '${m.name}', which ${m.package === manifest.metadata.project_name ? 'the project' : `package ${m.package}`} defines in ${m.file} and kiln does not run${more}`, {
    location: { file: node.original_file_path },
    hint: `leave it out (--exclude ${node.name}), or materialize it as view, table, incremental, materialized_view or ephemeral`,
  });
}

/** `kiln run`: materialize the selected models. */
export function run(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('run', options, [materializePhase(new Set(['model']))]);
}

/** `kiln seed`: load the selected seed CSVs. */
export function seed(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('seed', options, [materializePhase(new Set(['seed']))]);
}

/** `kiln snapshot`: take the selected snapshots (SCD2 history of their queries). */
export function snapshot(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('snapshot', options, [materializePhase(new Set(['snapshot']))]);
}

/** The phases of `kiln build`, in order; `kiln watch` rebuilds with the same ones. */
export function buildPhases(): Phase[] {
  return [stagePhase, materializePhase(new Set(['seed', 'model', 'snapshot'])), refeedPhase({ skipSelectedModels: true }), testPhase];
}

/** `kiln build`: every phase in one DAG: stage → seeds → models, with their tests. */
export function build(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('build', options, buildPhases());
}

/** Whether running `phases` writes to the target (and so must hold its lock). */
export function phasesWrite(ctx: RunContext, phases: readonly Phase[]): boolean {
  return phases.some((p) => p.writes?.(ctx) ?? true);
}

/**
 * Runs `phases` as one DAG and writes run_results.json. `reuse` lets a long-lived caller
 * (`kiln watch`) pass an invocation it compiled and a warehouse (and lock) it keeps across runs.
 * Otherwise the warehouse is opened here, and the target's lock taken when the phases write:
 * after connecting, before the first statement that changes anything, released in `finally`.
 */
export async function executeCommand(
  command: string,
  options: InvocationOptions,
  phases: readonly Phase[],
  reuse: { readonly invocation?: Invocation; readonly warehouse?: WarehouseSession } = {},
): Promise<CommandOutcome> {
  const t0 = performance.now();
  const inv = reuse.invocation ?? openInvocation(options);
  const { compiled, reporter } = inv;
  for (const phase of phases) phase.assertRunnable?.(inv);
  const warehouse = reuse.warehouse ?? (await openWarehouse(inv, command, phasesWrite(inv, phases)));
  const { adapter } = warehouse;
  const ctx: RunContext = { ...inv, holdsTargetLock: warehouse.holdsTargetLock };
  let results: NodeResult[] = [];
  try {
    // Before the first statement that changes anything (prepareWarehouse creates databases).
    if (options.validate !== false) await checkPhases(ctx, adapter, phases);
    const relations = phases.flatMap((p) => p.relations?.(ctx) ?? []);
    const state = await prepareWarehouse(adapter, relations, { dropLeftovers: warehouse.holdsTargetLock });
    const raw: ExecStep[] = [];
    for (const phase of phases) raw.push(...(await phase.steps(ctx, adapter, state)));
    const steps = linkSteps(raw, compiled.dag);
    reporter.emit({ type: 'phase', name: command, total: steps.length });
    results = await runSteps(steps, { threads: threadsOf(inv), failFast: options.failFast ?? false, reporter });
  } finally {
    if (!reuse.warehouse) await warehouse.close();
  }
  const elapsedSeconds = (performance.now() - t0) / 1000;
  writeRunResults(inv, command, results, elapsedSeconds);
  if (options.junit) writeText(options.junit, junitXml(results, `kiln ${command}`));
  reporter.emit({ type: 'summary', results, elapsedSeconds });
  return { results, elapsedSeconds, invocation: inv };
}

export function writeRunResults(inv: Invocation, command: string, results: readonly NodeResult[], elapsedSeconds: number): void {
  const doc: RunResults = {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/run-results/v6.json',
      kiln_version: KILN_VERSION,
      generated_at: new Date().toISOString(),
      invocation_id: inv.invocationId,
    },
    results,
    elapsed_time: elapsedSeconds,
    args: {
      which: command,
      target: inv.compiled.project.target.name,
      select: inv.options.select ?? [],
      exclude: inv.options.exclude ?? [],
      full_refresh: inv.options.fullRefresh === true,
      threads: threadsOf(inv),
    },
  };
  writeJson(join(inv.targetDir, 'run_results.json'), doc);
  const { manifest } = inv.compiled;
  const known = (id: string) => id in manifest.nodes || id in manifest.sources || id in manifest.tests || id in manifest.unit_tests;
  mergeLastResults(join(inv.targetDir, LAST_RESULTS_FILE), results, doc.metadata.generated_at, known);
}
