import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { isLeftoverOf } from '../materialize/materialization.js';
import { relationKey, type WarehouseState } from '../plan/plan.js';

/**
 * Creates the databases the plan writes to, reads which relations exist (the plan's
 * warehouse state) and drops temporaries a killed run left behind for these relations.
 */
export async function prepareWarehouse(
  adapter: Adapter,
  relations: ReadonlyArray<ddl.Relation>,
): Promise<WarehouseState> {
  const databases = [...new Set(relations.map((r) => r.database))];
  for (const db of databases) await adapter.createDatabase(db);
  const existing = await adapter.listRelations(databases);
  const names = new Set(relations.map((r) => r.name));
  for (const r of existing) {
    const leftover = r.name.startsWith('__kiln_') && [...names].some((n) => isLeftoverOf(r.name, n));
    if (leftover) await adapter.execute(ddl.dropRelation(adapter.ddl, r));
  }
  return { relations: new Map(existing.filter((r) => !r.name.startsWith('__kiln_')).map((r) => [relationKey(r), r])) };
}
