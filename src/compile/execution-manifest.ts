import { KilnError } from '../errors.js';
import type { EphemeralStyle } from './ephemeral-style.js';
import type { ModelKind } from './model-kind.js';
import { resolveSql, type RefTable, type RenderedSql } from './sql-resolver.js';
import type { TableDefinition } from './table-definition.js';

/** What executing a model needs beyond its manifest node, rendered at compile. */
export interface ExecutableModel {
  readonly kind: Exclude<ModelKind, { readonly materialized: 'seed' }>;
  /** The model rendered with is_incremental() false: its manifest `compiled_code`, before refs resolve. */
  readonly sql: RenderedSql;
  /** Rendered with is_incremental() true; only for incremental models whose SQL asks. */
  readonly incrementalSql?: RenderedSql;
  readonly preHooks: readonly RenderedSql[];
  readonly postHooks: readonly RenderedSql[];
  /**
   * Set when rendering asked the warehouse (run_query, statement, get_columns_in_relation, …):
   * compile rendered it with `execute` false, so it is rendered again when it executes.
   */
  readonly introspective?: true;
  /** Contract, column codec/ttl, indexes, projections: absent when the model has none. */
  readonly table?: TableDefinition;
}

/** A materialization a macro file defines, which kiln does not run. */
export interface CustomMaterialization {
  readonly name: string;
  /** The package (or the project) whose macros define it, and the file. */
  readonly package: string;
  readonly file: string;
}

/** A seed loads its CSV; only its hooks are rendered. */
export interface ExecutableSeed {
  readonly kind: { readonly materialized: 'seed' };
  readonly preHooks: readonly RenderedSql[];
  readonly postHooks: readonly RenderedSql[];
}

export type ExecutableNode = ExecutableModel | ExecutableSeed;

/**
 * A data test's query. `rerender` is set when rendering it asked the warehouse: compile rendered
 * it with `execute` false, so it is rendered again when it runs (a generic test's macro with its
 * arguments, plain data; or a singular test's template).
 */
export interface TestRender extends RenderedSql {
  readonly rerender?: { readonly macro: string; readonly args: Readonly<Record<string, unknown>> } | { readonly code: string };
}

/** A unit test's model, rendered with the test's `overrides` (vars, is_incremental). */
export interface UnitTestRender extends RenderedSql {
  readonly sources: ReadonlyArray<readonly [string, string]>;
}

/**
 * The half of compile's output that dbt's manifest shape has no room for: everything execution
 * renders from. Plain data (it survives JSON), so run, retry and --state execute from a compile's
 * result alone, and no template engine exists at execution time. SQL for a target is
 * `resolveSql(refs, rendered, adapter's ephemeral style)`.
 */
export interface ExecutionManifest {
  readonly refs: RefTable;
  /** Models and seeds by unique id. */
  readonly models: Readonly<Record<string, ExecutableNode>>;
  /** Data tests' failing-rows queries by unique id. */
  readonly tests: Readonly<Record<string, TestRender>>;
  readonly unitTests: Readonly<Record<string, UnitTestRender>>;
  /**
   * Models whose materialization only a `{% materialization %}` block defines (a package's own,
   * such as elementary's): in the graph and the manifest, refused when selected to run.
   */
  readonly unrunnable?: Readonly<Record<string, CustomMaterialization>>;
}

/** A model's SQL for one run: is_incremental() as asked, ephemerals in the target's style. */
export function modelSql(execution: ExecutionManifest, model: ExecutableModel, opts: { readonly isIncremental: boolean; readonly style: EphemeralStyle }): string {
  const rendered = opts.isIncremental && model.incrementalSql ? model.incrementalSql : model.sql;
  return resolveSql(execution.refs, rendered, opts.style);
}

/** A node's pre- or post-hooks, resolved for the target. */
export function hookSql(execution: ExecutionManifest, node: ExecutableNode, kind: 'pre_hook' | 'post_hook', style: EphemeralStyle): string[] {
  return (kind === 'pre_hook' ? node.preHooks : node.postHooks).map((h) => resolveSql(execution.refs, h, style));
}

/** A data test's failing-rows query, resolved for the target. */
export function testSql(execution: ExecutionManifest, uniqueId: string, style: EphemeralStyle): string {
  const rendered = execution.tests[uniqueId];
  if (!rendered) throw new KilnError('INTERNAL', `no compiled test ${uniqueId}`);
  return resolveSql(execution.refs, rendered, style);
}
