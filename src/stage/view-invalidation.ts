import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import type { Relation } from '../adapters/ddl.js';
import * as sql from '../adapters/staging-sql.js';
import type { StageContext } from './stage-context.js';

/**
 * How a load is about to change a raw table: `append` inserts rows (which fires the materialized
 * views reading the table first); `replace` swaps the table, replaces or drops a partition, or
 * drops the table for a full refresh (which fires none).
 */
export type RawChange = 'append' | 'replace';

/**
 * Called just before the statement that changes `table`. Every materialized_view model built from
 * the table that the change will not reach through its own views has its views dropped now: an
 * append to a table none of its views fires on (a dimension it joins), or any replace. A model
 * whose table has lost its views is an unfinished build, which the model's next step (the rebuild
 * `kiln stage` runs after its loads, or the model's step in `kiln build` and `kiln watch`) rebuilds
 * from the raw tables, under the lock this load holds. Dropping first is what makes it exactly
 * once: killed anywhere after, the views are still missing, so the next stage, build or run
 * rebuilds; the rebuild reads every row, so nothing the dropped views missed is lost and nothing
 * a view already added is counted twice.
 */
export async function beforeRawChange(ctx: StageContext, table: Relation, change: RawChange): Promise<void> {
  if (ctx.fedModels.length === 0) return;
  const { adapter } = ctx;
  const fired = change === 'append' ? await viewsFiredBy(adapter, table) : new Set<string>();
  for (const model of ctx.fedModels) {
    if (model.views.some((v) => fired.has(ddl.rel(v)))) continue;
    const present = await viewsPresent(adapter, model.views);
    if (present.length === 0) continue;
    ctx.info(`${model.name} is rebuilt after the load: ${change === 'append' ? 'rows appended to' : 'the reload of'} ${table.database}.${table.name} reach${change === 'append' ? '' : 'es'} none of its materialized views`);
    for (const view of present) await adapter.execute(ddl.dropRelation(adapter.ddl, view));
  }
}

/** The materialized views an insert into `table` fires, as `db`.`name` texts (ddl.rel). */
export async function viewsFiredBy(adapter: Adapter, table: Relation): Promise<Set<string>> {
  const r = await adapter.query<{ databases: string[]; names: string[] }>(sql.dependentViews(table));
  const row = r.rows[0];
  return new Set((row?.names ?? []).map((name, i) => ddl.rel({ database: row!.databases[i]!, name })));
}

async function viewsPresent(adapter: Adapter, views: readonly Relation[]): Promise<Relation[]> {
  const out: Relation[] = [];
  for (const db of new Set(views.map((v) => v.database))) {
    const names = new Set((await adapter.listRelations([db])).map((r) => r.name));
    out.push(...views.filter((v) => v.database === db && names.has(v.name)));
  }
  return out;
}
