import { KilnError, type SourceLocation } from '../errors.js';
import type { RenderOutput } from '../template/template-engine.js';
import type { RenderedSql } from './sql-resolver.js';

/** A hook's statements: what its template asked to run (adapter.drop_relation), then its own SQL. */
export function hookStatements(out: Pick<RenderOutput, 'sql' | 'refs' | 'statements'>): RenderedSql[] {
  const own = { sql: out.sql, refs: out.refs };
  if (!out.statements?.length) return [own];
  // `{% do adapter.drop_relation(…) %}` alone renders nothing of its own: no empty statement after it.
  return [...out.statements.map((sql) => ({ sql, refs: [] })), ...(own.sql.trim() ? [own] : [])];
}

/** A data test asked to drop a relation: where the drop belongs instead. */
export const TEST_DROP_HINT = 'a data test only reads: drop the relation in a post_hook of the model or seed that builds it';

/** adapter.drop_relation changes the warehouse: dbt runs it where the template renders, kiln in hooks only. */
export function sideStatementOutsideHook(what: string, location: SourceLocation, hint = "move it into a hook: config(post_hook=\"{% do adapter.drop_relation(...) %}\")"): KilnError {
  return new KilnError('TEMPLATE_ERROR', `${what} calls adapter.drop_relation, which kiln runs only in a pre_hook or post_hook`, { location, hint });
}
