import { distributedIncrementalMaterialization, distributedTableMaterialization } from './distributed-materialization.js';
import { incrementalMaterialization } from './incremental-materialization.js';
import { materializedViewMaterialization } from './materialized-view-materialization.js';
import type { ModelKind } from '../compile/model-kind.js';
import type { MaterializationStrategy } from './materialization.js';
import { seedMaterialization } from './seed-materialization.js';
import { snapshotMaterialization } from './snapshot-materialization.js';
import { tableMaterialization } from './table-materialization.js';
import { viewMaterialization } from './view-materialization.js';

/**
 * The strategy that builds each kind of node. Ephemeral models are never executed (they are
 * inlined into their readers), so they have none; every other kind compile accepts has one.
 */
export const STRATEGIES: Readonly<Record<Exclude<ModelKind['materialized'], 'ephemeral'>, MaterializationStrategy>> = {
  view: viewMaterialization,
  table: tableMaterialization,
  seed: seedMaterialization,
  incremental: incrementalMaterialization,
  materialized_view: materializedViewMaterialization,
  snapshot: snapshotMaterialization,
  distributed_table: distributedTableMaterialization,
  distributed_incremental: distributedIncrementalMaterialization,
};
