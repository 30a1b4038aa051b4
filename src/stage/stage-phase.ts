import type { Adapter } from '../adapters/adapter.js';
import type { Phase } from '../api/run.js';
import type { Invocation } from '../api/invocation.js';
import type { ExecStep, StepOutput } from '../execute/run-steps.js';
import type { SourceNode } from '../project/nodes.js';
import { loadFileTable } from './file-loader.js';
import { ensureStagingTables, forgetTable } from './ledger.js';
import { DumpFiles, loadDumpTable, loadLiveTable, preflightMySql } from './mysql-loader.js';
import { overRejectLimit, stageTableOf, type StageTable } from './source-options.js';
import { clickhouseTime, type StageContext, type TableLoad } from './stage-context.js';
import { unreadWholeDatabaseTables } from './whole-database.js';

/** The selected source tables with a loader, typed (bad options are exit-2 errors here). */
export function selectedStageTables(inv: Invocation): StageTable[] {
  const { parsed, project } = inv.compiled;
  return parsed.sources
    .filter((s: SourceNode) => inv.selected.has(s.uniqueId) && s.loader !== undefined && s.options.enabled !== false)
    .map((s) => stageTableOf(s, project.root, project.target.raw_database));
}

/**
 * Staging: one step per selected source table, loading it into `<raw_database>.<source>__<table>`;
 * for a whole-database source, also one per table that nothing reads (listed in the database).
 * Models that read a source wait for its step (linkSteps follows the graph's edges).
 */
export const stagePhase: Phase = {
  name: 'stage',
  relations: (inv) => selectedStageTables(inv).map((t) => t.relation),
  async steps(inv: Invocation, adapter: Adapter): Promise<ExecStep[]> {
    const selected = selectedStageTables(inv);
    const dumps = new DumpFiles();
    // Unreachable MySQL or a missing table is an invalid invocation: found before anything runs.
    for (const t of selected) if (t.loader === 'mysql') await preflightMySql(adapter, t, dumps);
    const tables = [...selected, ...(await unreadWholeDatabaseTables(inv, adapter, dumps))];
    if (tables.length === 0) return [];
    for (const db of new Set(tables.map((t) => t.relation.database))) await ensureStagingTables(adapter, db);
    const runId = inv.invocationId.replace(/-/g, '').slice(0, 12);
    const fullRefresh = inv.options.fullRefresh === true;
    let pending = tables.length;
    return tables.map((table) => ({
      uniqueId: table.uniqueId,
      deps: [],
      label: `${table.loader} source ${table.relation.database}.${table.relation.name}`,
      originalFilePath: table.location.file,
      async execute(): Promise<StepOutput> {
        const loadedAt = new Date();
        // The step's query time, as models report theirs: what ClickHouse spent on its statements.
        const metered = adapter.metered();
        const ctx: StageContext = {
          adapter: metered.adapter,
          stamp: { loadId: `${inv.invocationId}`, loadedAt: clickhouseTime(loadedAt) },
          runId,
          fullRefresh,
          warn: (warning) => inv.reporter.emit({ type: 'warning', warning }),
        };
        try {
          if (fullRefresh) await forgetTable(ctx.adapter, table);
          const load =
            table.loader === 'mysql'
              ? table.source.kind === 'live'
                ? await loadLiveTable(ctx, table)
                : await loadDumpTable(ctx, table, dumps)
              : await loadFileTable(ctx, table);
          return { ...outcome(inv, table, load), queryTimeMs: metered.elapsedMs() };
        } finally {
          if (--pending === 0) dumps.dispose();
        }
      },
    }));
  },
};

function outcome(inv: Invocation, table: StageTable, load: TableLoad): StepOutput {
  const name = `${table.sourceName}.${table.tableName}`;
  const files = table.loader === 'mysql' && table.source.kind === 'live' ? '' : `${load.files} file(s) (${load.skipped} unchanged), `;
  const summary = `${name}: ${files}${load.rows} row(s) loaded, ${load.rejected} rejected`;
  inv.reporter.emit({ type: 'info', message: summary });
  const relationName = `${table.relation.database}.${table.relation.name}`;
  if (load.rejected > 0) {
    const where = `${table.relation.database}._kiln_quarantine`;
    if (overRejectLimit(table.maxRejected, load.rejected, load.rows + load.rejected)) {
      return {
        status: 'error',
        rowsAffected: load.rows,
        failures: load.rejected,
        message: `${table.location.file}${table.location.line ? `:${table.location.line}` : ''}: ${name}: ${load.rejected} rejected record(s) exceed max_rejected ${table.maxRejected}\n  hint: see ${where} for each record, its file, line and reason`,
        relationName,
      };
    }
    inv.reporter.emit({
      type: 'warning',
      warning: { message: `${name}: ${load.rejected} record(s) rejected`, location: table.location, hint: `see ${where}` },
    });
  }
  return { status: 'success', rowsAffected: load.rows, message: summary, relationName };
}
