import type { Adapter } from '../adapters/adapter.js';
import type { Relation } from '../adapters/ddl.js';
import type { CompiledProject } from '../compile/compile-project.js';
import type { SelectionOptions } from '../graph/selection-state.js';
import type { StepKind, WarehouseState } from '../plan/plan.js';
import type { Reporter } from '../report/events.js';
import type { ExecStep } from './run-steps.js';

/** The flags of a command that its phases read. */
export interface RunOptions extends SelectionOptions {
  readonly fullRefresh?: boolean;
  /** `kiln stage --prune`: remove the staged rows of files that are gone. */
  readonly prune?: boolean;
  /**
   * Check the selection on the target before the first change (issue 16; default on for
   * run, seed and build; `--no-validate` turns it off, `kiln compile --validate` asks for it).
   */
  readonly validate?: boolean;
  /** `--event-time-start` / `--event-time-end`: the window microbatch models process. */
  readonly eventTimeStart?: Date;
  readonly eventTimeEnd?: Date;
  /** `kiln retry`: per microbatch model, the batches ([start, end) ISO times) that failed last time. */
  readonly retryBatches?: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>>;
}

/**
 * What a phase and its steps see of a command: the compiled project, what was selected, and
 * where to report. Deliberately not the command's session (api's Invocation satisfies it), so
 * the phases below src/api do not depend on how a command is set up.
 */
export interface RunContext {
  /** Ties the run's loads and scratch relations to its run_results.json. */
  readonly invocationId: string;
  readonly compiled: CompiledProject;
  /** Unique ids picked by --select/--exclude (all nodes without them). */
  readonly selected: ReadonlySet<string>;
  readonly options: RunOptions;
  readonly reporter: Reporter;
  /** The project's target folder, where the last run's run_results.json is. */
  readonly targetDir: string;
  /**
   * True when this run holds the target's lock (a server writer, or any run on the embedded
   * engine): scratch relations of other runs are then of runs that no longer hold it, and may
   * be dropped. False for a read-only run on a server, which drops only its own.
   */
  readonly holdsTargetLock?: boolean;
}

/**
 * A phase contributes steps to a command: staging sources, seeds and models, tests. Build runs
 * several phases as one DAG (see linkSteps); each phase's steps name their raw dependencies.
 */
export interface Phase {
  readonly name: string;
  /** Whether the phase changes the warehouse (so its command takes the target lock); default true. */
  writes?(ctx: RunContext): boolean;
  /** Throws when the selection holds a node the phase cannot run: before anything connects. */
  assertRunnable?(ctx: RunContext): void;
  /** Relations the phase writes, so databases exist and leftovers are cleaned before it runs. */
  relations?(ctx: RunContext): ReadonlyArray<Relation>;
  steps(ctx: RunContext, adapter: Adapter, state: WarehouseState): Promise<ExecStep[]> | ExecStep[];
  /** What validation checks for this phase before anything runs: nodes of these kinds, data tests. */
  readonly checks?: { readonly kinds?: readonly StepKind[]; readonly tests?: boolean };
}

/** Short id of a run, for the names of its scratch relations. */
export function scratchRunId(ctx: RunContext): string {
  return ctx.invocationId.replace(/-/g, '').slice(0, 12);
}
