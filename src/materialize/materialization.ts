import type { RelationInfo, WarehouseOperations } from '../adapters/adapter.js';
import { withSettings, type Relation, type TableOptions } from '../adapters/ddl.js';
import type { ModelManifestNode, SeedManifestNode } from '../compile/manifest.js';
import type { ModelKind } from '../compile/model-kind.js';
import type { TableDefinition } from '../compile/table-definition.js';
import type { NodeConfig } from '../project/types.js';
import type { Batch } from './microbatch-batches.js';

/** What a strategy gets for one node. Built by the executor; strategies never look further. */
export interface MaterializeContext {
  /** Statements and operations on the warehouse, each one's time counted for the step. */
  readonly warehouse: WarehouseOperations;
  readonly node: ModelManifestNode | SeedManifestNode;
  /** What the node is built as, validated at compile. */
  readonly kind: ModelKind;
  /** Contract, column codec/ttl, indexes, projections, validated at compile; absent when none. */
  readonly table?: TableDefinition;
  readonly relation: Relation;
  /** The relation as it stood when the run started, if it existed. */
  readonly existing: RelationInfo | undefined;
  readonly fullRefresh: boolean;
  /**
   * A materialized_view model run after staging (api/stage.ts): rebuilt only when a load dropped
   * its views, else left as it is (no SELECT comparison, no MODIFY QUERY: that is `kiln run`'s).
   */
  readonly refeedOnly?: boolean;
  /** Short id of this invocation, for unique temporary relation names. */
  readonly runId: string;
  /** The model's SQL for this run (re-rendered when is_incremental() must be true); for a microbatch batch, upstream refs with event_time filtered to it. */
  sql(opts: { isIncremental: boolean; batch?: Batch }): string;
  /** Microbatch models: the --event-time-start/--event-time-end window, or the batches `kiln retry` reruns. */
  readonly batches?: {
    readonly eventTimeStart?: Date;
    readonly eventTimeEnd?: Date;
    readonly retry?: readonly Batch[];
  };
  /** Rendered pre/post hooks. */
  hooks(kind: 'pre_hook' | 'post_hook'): string[];
}

export interface MaterializeResult {
  readonly rowsAffected: number | null;
  /** e.g. "created table analytics.dim_content". */
  readonly message: string;
  /** Microbatch models: which batches were published and which failed (the node fails if any did). */
  readonly batches?: {
    readonly successful: readonly Batch[];
    readonly failed: ReadonlyArray<Batch & { readonly message: string }>;
  };
}

export interface MaterializationStrategy {
  readonly name: string;
  run(ctx: MaterializeContext): Promise<MaterializeResult>;
  /**
   * Validation before any change (issue 16): sends to the shadow database the statements that
   * show the node would build. `ctx.relation` is the node's shadow relation, `ctx.sql` reads
   * empty stand-ins of its inputs, `ctx.existing` is the real relation as the run will find it.
   * Nothing outside the shadow is changed and no hook runs. A SqlError is the node's error.
   * Without it, validation checks the model's SQL as a view.
   */
  check?(ctx: MaterializeContext): Promise<void>;
}

export function tableOptions(config: NodeConfig): TableOptions {
  const out: Record<string, unknown> = {};
  for (const key of ['engine', 'order_by', 'partition_by', 'primary_key', 'ttl', 'settings'] as const) {
    if (config[key] !== undefined) out[key] = config[key];
  }
  return out as TableOptions;
}

/**
 * dbt-clickhouse's `query_settings`: query-level settings on the statements that run a table's or
 * an incremental's SELECT (CREATE … AS SELECT, INSERT … SELECT), as a SETTINGS clause of it.
 */
export function withQuerySettings(kind: ModelKind, config: NodeConfig, select: string): string {
  if (!['table', 'incremental', 'distributed_table', 'distributed_incremental'].includes(kind.materialized)) return select;
  const settings = config.query_settings as Readonly<Record<string, string | number | boolean>> | undefined;
  return settings ? withSettings(select, settings) : select;
}

/** Names for a node's temporary relations; the prefixes let a later run find leftovers. */
export const TEMP_PREFIX = '__kiln_tmp__';
export const OLD_PREFIX = '__kiln_old__';

export function tempRelation(target: Relation, runId: string): Relation {
  return { database: target.database, name: `${TEMP_PREFIX}${target.name}__${runId}` };
}

export function oldRelation(target: Relation, runId: string): Relation {
  return { database: target.database, name: `${OLD_PREFIX}${target.name}__${runId}` };
}

/** True for a temporary relation that belongs to `name` (any run). */
export function isLeftoverOf(relationName: string, name: string): boolean {
  return relationName.startsWith(`${TEMP_PREFIX}${name}__`) || relationName.startsWith(`${OLD_PREFIX}${name}__`);
}
