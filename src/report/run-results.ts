import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KilnError } from '../errors.js';

/** `success` for what was built or loaded, `pass`/`warn`/`fail` for checks, `error` when a node could not run, `skipped` when something upstream failed. */
export type NodeStatus = 'success' | 'error' | 'skipped' | 'pass' | 'fail' | 'warn';

/** One entry of `target/run_results.json`, dbt's field names. */
export interface NodeResult {
  readonly unique_id: string;
  readonly status: NodeStatus;
  readonly execution_time: number;
  /** For tables the rows built; for incremental models the rows this run added or replaced. */
  readonly rows_affected: number | null;
  /** Failing rows of a data test. */
  readonly failures: number | null;
  readonly message: string | null;
  readonly thread_id: string;
  readonly timing: ReadonlyArray<{ readonly name: 'execute'; readonly started_at: string; readonly completed_at: string }>;
  readonly adapter_response: { readonly rows_affected?: number | null; readonly query_time_ms?: number; readonly code?: string };
  readonly relation_name?: string | null;
  readonly compiled_path?: string | null;
  /** `file:line` of the node, for annotations and error lines. */
  readonly original_file_path?: string;
  /** Microbatch models (dbt 1.9): each batch as [start, end) ISO times; `kiln retry` reruns the failed ones. */
  readonly batch_results?: { readonly successful: ReadonlyArray<readonly [string, string]>; readonly failed: ReadonlyArray<readonly [string, string]> };
}

/** `target/run_results.json`: dbt's run-results v6 shape. */
export interface RunResults {
  readonly metadata: {
    readonly dbt_schema_version: string;
    readonly kiln_version: string;
    readonly generated_at: string;
    readonly invocation_id: string;
  };
  readonly results: readonly NodeResult[];
  readonly elapsed_time: number;
  readonly args: Readonly<Record<string, unknown>>;
}

export function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The run_results.json an earlier command wrote, or null when there is none. The one reader of
 * the file: `result:` selection and `kiln retry` both go through it. `shownAs` names the file in
 * the error a corrupt one raises.
 */
export function readRunResults(file: string, shownAs: string = file): RunResults | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunResults;
  } catch (err) {
    throw new KilnError('STATE_INVALID', `${shownAs} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Per node, the result of the last command that ran it: `target/last_results.json`. */
export interface LastResults {
  readonly results: Readonly<Record<string, NodeResult & { readonly generated_at: string }>>;
}

export const LAST_RESULTS_FILE = 'last_results.json';

/**
 * Merges a command's results into last_results.json, keeping only nodes the project still has.
 * run_results.json says what the last command did (a `kiln watch` rebuild: a few nodes); this
 * says how every node last ended, which the docs site shows next to what the warehouse holds.
 */
export function mergeLastResults(file: string, results: readonly NodeResult[], generatedAt: string, known: (id: string) => boolean): void {
  const before = readLastResults(file);
  const merged: Record<string, NodeResult & { generated_at: string }> = {};
  for (const [id, r] of Object.entries(before?.results ?? {})) if (known(id)) merged[id] = r;
  for (const r of results) merged[r.unique_id] = { ...r, generated_at: generatedAt };
  writeFileSync(file, JSON.stringify({ results: merged } satisfies LastResults));
}

/** last_results.json, or null when missing or unreadable (it is a convenience, never an error). */
export function readLastResults(file: string): LastResults | null {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as LastResults;
    return doc && typeof doc.results === 'object' && doc.results !== null ? doc : null;
  } catch {
    return null;
  }
}
