import type { Phase, RunContext } from '../execute/phase.js';
import { planNodes, type WarehouseState } from '../plan/plan.js';
import { fedModelsOf } from '../stage/fed-models.js';
import { selectedStageTables } from '../stage/stage-phase.js';
import { materializeSteps } from './model-steps.js';

/**
 * After the loads: every materialized_view model built from a staged source whose views a load
 * dropped (a swap or a replaced partition fires none; see stage/view-invalidation.ts) is rebuilt
 * from the raw tables, under the lock the loads held; one whose views saw every load is left as
 * it is. So `kiln stage` alone keeps such models exact. Each step waits for the loads of its
 * sources. `skipSelectedModels` (kiln build, kiln watch): a model the same command materializes
 * anyway is left to that step, which rebuilds a model without its views too.
 */
export function refeedPhase(opts: { readonly skipSelectedModels: boolean }): Phase {
  const plan = (ctx: RunContext, state: WarehouseState) => {
    const ids = new Set(
      selectedStageTables(ctx)
        .flatMap((t) => fedModelsOf(ctx.compiled.manifest, ctx.compiled.dag, t.uniqueId))
        .map((m) => m.uniqueId)
        .filter((id) => !(opts.skipSelectedModels && ctx.selected.has(id))),
    );
    return planNodes(ctx.compiled.manifest, ctx.compiled.dag, ids, state, new Set(['model']));
  };
  return {
    name: 'refeed',
    relations: (ctx) => plan(ctx, { relations: new Map() }).map((s) => s.relation),
    steps: (ctx, adapter, state) => materializeSteps(ctx, adapter, plan(ctx, state), { refeedOnly: true }),
  };
}
