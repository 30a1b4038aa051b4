import type { Adapter } from '../adapters/adapter.js';
import * as ddl from '../adapters/ddl.js';
import { countFailures, failuresTableSelect, selectAllFrom } from '../adapters/test-queries.js';
import type { CompiledProject } from '../compile/compile-project.js';
import type { TestManifestNode } from '../compile/manifest.js';
import { testStatus } from '../compile/test-config.js';
import { KilnError, type SourceLocation } from '../errors.js';
import type { StepOutput } from '../execute/run-steps.js';
import { testSql } from '../compile/execution-manifest.js';
import { renderIntrospectiveTest } from '../compile/introspective-render.js';
import { resolveSql } from '../compile/sql-resolver.js';
import { askWarehouse } from '../execute/ask-warehouse.js';

/** Where a test was declared, as an error location. */
export function declaredAt(node: { readonly declared_at: { readonly file: string; readonly line: number | null } }): SourceLocation {
  return { file: node.declared_at.file, ...(node.declared_at.line ? { line: node.declared_at.line } : {}) };
}

/**
 * Runs one data test: counts its failing rows (keeping them in `<database>_test_failures` with
 * store_failures) and turns the count into pass / warn / fail by severity, warn_if and error_if.
 */
export async function runDataTest(compiled: CompiledProject, adapter: Adapter, node: TestManifestNode): Promise<StepOutput> {
  const compiledTest = compiled.execution.tests[node.unique_id];
  // A test whose macro asks the warehouse is rendered now, against the target.
  const sql = compiledTest?.rerender
    ? resolveSql(compiled.execution.refs, await renderIntrospectiveTest(compiled, node.unique_id, compiledTest, askWarehouse(adapter)), adapter.ephemeralStyle)
    : testSql(compiled.execution, node.unique_id, adapter.ephemeralStyle);
  const limit = (node.config.limit as number | null | undefined) ?? null;
  const failCalc = typeof node.config.fail_calc === 'string' ? node.config.fail_calc : 'count(*)';
  let queryTimeMs = 0;
  let failures: number;
  let relationName: string | null = null;
  try {
    if (node.config.store_failures === true) {
      const table = { database: node.database, name: node.alias };
      queryTimeMs += (await adapter.execute(ddl.dropRelation(adapter.ddl, table))).elapsedMs;
      for (const statement of ddl.createTableFromSelect(adapter.ddl, table, failuresTableSelect(sql, limit), {})) queryTimeMs += (await adapter.execute(statement)).elapsedMs;
      const r = await adapter.query<{ failures: string | number }>(countFailures(ddl.selectAll(table), null, failCalc));
      queryTimeMs += r.elapsedMs;
      failures = Number(r.rows[0]?.failures ?? 0);
      relationName = `${table.database}.${table.name}`;
    } else {
      const r = await adapter.query<{ failures: string | number }>(countFailures(sql, limit, failCalc));
      queryTimeMs += r.elapsedMs;
      failures = Number(r.rows[0]?.failures ?? 0);
    }
  } catch (err) {
    if (err instanceof KilnError && err.code === 'SQL_ERROR') {
      throw new KilnError('SQL_ERROR', `test '${node.name}': ${err.message}`, {
        location: declaredAt(node),
        cause: err,
      });
    }
    throw err;
  }
  const config = node.config as unknown as { severity: 'ERROR' | 'WARN'; warn_if: string; error_if: string };
  const status = testStatus(failures, config);
  return {
    status,
    failures,
    queryTimeMs,
    relationName,
    message: status === 'pass' ? null : failureMessage(node, failures, status, config, relationName),
  };
}

function failureMessage(
  node: TestManifestNode,
  failures: number,
  status: 'warn' | 'fail',
  config: { warn_if: string; error_if: string },
  stored: string | null,
): string {
  const at = declaredAt(node);
  const rule = status === 'fail' ? config.error_if : config.warn_if;
  const rows = `${failures} failing row${failures === 1 ? '' : 's'}`;
  const lines = [`${at.file}${at.line ? `:${at.line}` : ''}: ${node.name}: got ${rows}, configured to ${status} if ${rule}`];
  lines.push(stored ? `  failing rows: ${selectAllFrom(stored)}` : `  compiled SQL: ${node.compiled_path}`);
  return lines.join('\n');
}
