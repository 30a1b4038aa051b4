import { incrementalMaterialization } from './incremental-materialization.js';
import type { Materialization } from './materialization.js';
import { seedMaterialization } from './seed-materialization.js';
import { tableMaterialization } from './table-materialization.js';
import { viewMaterialization } from './view-materialization.js';

/** One strategy per materialization; ephemeral models are never executed (they are inlined). */
export const MATERIALIZATIONS: Readonly<Record<string, Materialization>> = {
  view: viewMaterialization,
  table: tableMaterialization,
  seed: seedMaterialization,
  incremental: incrementalMaterialization,
};
