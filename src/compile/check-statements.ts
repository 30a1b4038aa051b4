import { secondStatementAt } from '../adapters/statements.js';
import { KilnError, type SourceLocation } from '../errors.js';

/**
 * Every model, test and hook runs as one statement. A second one, e.g. from a var() value holding
 * `60; DROP TABLE …`, would otherwise run too, unseen; it is an error before anything runs.
 */
export function assertOneStatement(sql: string, where: SourceLocation, what: string): void {
  const at = secondStatementAt(sql);
  if (at === undefined) return;
  const line = sql.slice(0, at).split('\n').length;
  const excerpt = sql.slice(at).split('\n')[0]!.slice(0, 60);
  throw new KilnError('SQL_INVALID', `${what} has a second SQL statement after ';' (line ${line} of its SQL): ${excerpt}`, {
    location: where,
    hint: "kiln runs one statement per model, test and hook: remove the ';' (a var() or env_var() value containing ';' ends up in the SQL too)",
  });
}
