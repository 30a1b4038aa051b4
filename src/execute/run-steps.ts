import { formatError, KilnError } from '../errors.js';
import type { Reporter } from '../report/events.js';
import type { NodeResult, NodeStatus } from '../report/run-results.js';
import { executeDag } from './dag-executor.js';

/** What one executed step reports; run-steps adds timing, thread and the run_results shape. */
export interface StepOutput {
  readonly status: NodeStatus;
  readonly rowsAffected?: number | null;
  readonly failures?: number | null;
  readonly message?: string | null;
  readonly queryTimeMs?: number;
  readonly relationName?: string | null;
  readonly compiledPath?: string | null;
  /** Microbatch models: their batches as [start, end) ISO times (dbt's batch_results). */
  readonly batchResults?: { readonly successful: ReadonlyArray<readonly [string, string]>; readonly failed: ReadonlyArray<readonly [string, string]> };
}

/** One unit of work in a command: stage a source, load a seed, build a model, run a test. */
export interface ExecStep {
  readonly uniqueId: string;
  readonly deps: readonly string[];
  readonly label: string;
  readonly originalFilePath?: string;
  readonly compiledPath?: string | null;
  /** Where the statements it sent are written (target/run/…), named in its SQL errors. */
  readonly runPath?: string | null;
  /**
   * Node ids this step gates: whatever depends on them also waits for this step, and is
   * skipped when it fails (data tests gate the model they test).
   */
  readonly gates?: readonly string[];
  /** Node ids that must wait for this step (unit tests run before their model). */
  readonly precedes?: readonly string[];
  execute(): Promise<StepOutput>;
}

export interface RunStepsOptions {
  readonly threads: number;
  readonly failFast?: boolean;
  readonly reporter: Reporter;
}

const BLOCKING: ReadonlySet<NodeStatus> = new Set(['error', 'fail']);

/** Runs steps through the DAG executor and turns each into a run_results entry, with events. */
export async function runSteps(steps: readonly ExecStep[], opts: RunStepsOptions): Promise<NodeResult[]> {
  const total = steps.length;
  let started = 0;
  let finished = 0;
  const byId = new Map(steps.map((s) => [s.uniqueId, s]));
  const results = await executeDag<NodeResult>({
    tasks: steps.map((s) => ({ id: s.uniqueId, deps: s.deps })),
    threads: opts.threads,
    failFast: opts.failFast ?? false,
    run: async (task, threadId) => {
      const step = byId.get(task.id)!;
      opts.reporter.emit({ type: 'node_start', uniqueId: step.uniqueId, label: step.label, index: ++started, total });
      const startedAt = new Date();
      let out: StepOutput;
      try {
        out = await step.execute();
      } catch (err) {
        if (!(err instanceof KilnError)) throw err;
        out = { status: 'error', message: describeFailure(err, step) };
      }
      const completedAt = new Date();
      const result = toResult(step, out, `Thread-${threadId}`, startedAt, completedAt);
      opts.reporter.emit({ type: 'node_done', result, label: step.label, index: ++finished, total });
      return { result, ok: !BLOCKING.has(out.status) };
    },
    skip: (task, cause) => {
      const step = byId.get(task.id)!;
      const now = new Date();
      const message = cause ? `skipped: upstream ${cause} did not succeed` : 'skipped: --fail-fast stopped the run';
      const result = toResult(step, { status: 'skipped', message }, 'main', now, now);
      opts.reporter.emit({ type: 'node_done', result, label: step.label, index: ++finished, total });
      return result;
    },
  });
  return steps.map((s) => results.get(s.uniqueId)!);
}

function describeFailure(err: KilnError, step: ExecStep): string {
  const withFile = err.location ? err : new KilnError(err.code, err.message, { location: { file: step.originalFilePath ?? step.uniqueId }, ...(err.hint ? { hint: err.hint } : {}) });
  const text = formatError(withFile);
  if (err.code !== 'SQL_ERROR' || !step.compiledPath) return text;
  return `${text}\n  compiled SQL: ${step.compiledPath}${step.runPath ? `\n  statements sent: ${step.runPath}` : ''}`;
}

function toResult(step: ExecStep, out: StepOutput, thread: string, startedAt: Date, completedAt: Date): NodeResult {
  return {
    unique_id: step.uniqueId,
    status: out.status,
    execution_time: (completedAt.getTime() - startedAt.getTime()) / 1000,
    rows_affected: out.rowsAffected ?? null,
    failures: out.failures ?? null,
    message: out.message ?? null,
    thread_id: thread,
    timing: [{ name: 'execute', started_at: startedAt.toISOString(), completed_at: completedAt.toISOString() }],
    adapter_response: {
      rows_affected: out.rowsAffected ?? null,
      ...(out.queryTimeMs !== undefined ? { query_time_ms: Math.round(out.queryTimeMs * 1000) / 1000 } : {}),
    },
    relation_name: out.relationName ?? null,
    compiled_path: out.compiledPath ?? step.compiledPath ?? null,
    ...(step.originalFilePath ? { original_file_path: step.originalFilePath } : {}),
    ...(out.batchResults ? { batch_results: out.batchResults } : {}),
  };
}
