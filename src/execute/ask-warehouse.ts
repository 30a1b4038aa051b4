import type { Adapter } from '../adapters/adapter.js';
import type { AskWarehouse } from '../compile/introspective-render.js';
import type { QueryRows, RelationColumn } from '../template/introspection.js';

/** Answers a template's questions (run_query, get_columns_in_relation, get_relation) from the target. */
export function askWarehouse(adapter: Adapter): AskWarehouse {
  return async (q) => {
    if (q.kind === 'query') {
      if (!q.sql.trim()) return { columns: [], rows: [] } satisfies QueryRows;
      const r = await adapter.query<Record<string, unknown>>(q.sql);
      const columns = r.rows.length ? Object.keys(r.rows[0]!) : [];
      return { columns, rows: r.rows.map((row) => columns.map((c) => row[c])) } satisfies QueryRows;
    }
    if (q.kind === 'columns') {
      const cols: RelationColumn[] = await adapter.columns({ database: q.database, name: q.table });
      return cols;
    }
    const found = (await adapter.listRelations([q.database])).find((r) => r.name === q.table);
    return found ? (found.isView ? 'view' : 'table') : null;
  };
}
