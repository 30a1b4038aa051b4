import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { LoadStamp } from '../adapters/staging-sql.js';
import type { Warning } from '../errors.js';
import { tempRelation } from '../materialize/materialization.js';
import type { FedModel } from './fed-models.js';

/** What a loader gets for one source table. */
export interface StageContext {
  readonly adapter: Adapter;
  readonly stamp: LoadStamp;
  /** Short id of this invocation, for scratch relation names. */
  readonly runId: string;
  readonly fullRefresh: boolean;
  /** `kiln stage --prune`: remove the rows of files staged earlier that are gone. */
  readonly prune: boolean;
  /** The materialized_view models built from this table (see view-invalidation.ts). */
  readonly fedModels: readonly FedModel[];
  warn(warning: Warning): void;
  info(message: string): void;
}

/** What a loader did: files seen (0 for MySQL), files skipped as already loaded, rows, rejects. */
export interface TableLoad {
  readonly files: number;
  readonly skipped: number;
  readonly rows: number;
  readonly rejected: number;
}

/**
 * A scratch relation of one load. It carries the temp prefix and the raw table's name, so the
 * next run's warehouse preparation drops it if this run was killed.
 */
export function scratchRelation(target: ddl.Relation, runId: string, role: string): ddl.Relation {
  return tempRelation(target, `${runId}_${role}`);
}

export async function dropQuietly(adapter: Adapter, relation: ddl.Relation): Promise<void> {
  await adapter.execute(ddl.dropRelation(adapter.ddl, relation)).catch(() => undefined);
}

/** `YYYY-MM-DD hh:mm:ss` in UTC, as ClickHouse DateTime text. */
export function clickhouseTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}
