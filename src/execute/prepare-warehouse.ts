import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { isLeftoverOf } from '../materialize/materialization.js';
import { relationKey, type WarehouseState } from '../plan/plan.js';

/**
 * Creates the databases the plan writes to, reads which relations exist (the plan's
 * warehouse state) and drops temporaries a killed run left behind for these relations.
 * Scratch names carry their run's id, and only a run holding the target's lock drops them
 * (`dropLeftovers`): no other run is live then, so every one it finds is of a run that no longer
 * holds the lock. Without the lock (a read-only command, or a caller that does not say) nothing
 * is dropped: a live writer's scratch tables look exactly like a dead one's.
 */
export async function prepareWarehouse(
  adapter: Adapter,
  relations: ReadonlyArray<ddl.Relation>,
  opts: { readonly dropLeftovers?: boolean } = {},
): Promise<WarehouseState> {
  const databases = [...new Set(relations.map((r) => r.database))];
  for (const db of databases) await adapter.createDatabase(db);
  const existing = await adapter.listRelations(databases);
  const names = new Set(relations.map((r) => r.name));
  for (const r of existing) {
    const leftover = opts.dropLeftovers === true && r.name.startsWith('__kiln_') && [...names].some((n) => isLeftoverOf(r.name, n));
    if (leftover) await adapter.execute(ddl.dropRelation(adapter.ddl, r));
  }
  return { relations: new Map(existing.filter((r) => !r.name.startsWith('__kiln_')).map((r) => [relationKey(r), r])) };
}
