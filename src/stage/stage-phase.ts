import type { Adapter } from '../adapters/adapter.js';
import { scratchRunId, type Phase, type RunContext } from '../execute/phase.js';
import type { ExecStep, StepOutput } from '../execute/run-steps.js';
import type { SourceNode } from '../project/nodes.js';
import { loadFileTable } from './file-loader.js';
import { fedModelsOf } from './fed-models.js';
import { ensureStagingTables } from './ledger.js';
import { DumpFiles, loadDumpTable, loadLiveTable, preflightMySql } from './mysql-loader.js';
import { shardingOnTarget } from './sharded-raw.js';
import { overRejectLimit, stageTableOf, type StageTable } from './source-options.js';
import { clickhouseTime, type StageContext, type TableLoad } from './stage-context.js';
import { unreadWholeDatabaseTables } from './whole-database.js';

/** The selected source tables with a loader, typed (bad options are exit-2 errors here). */
export function selectedStageTables(run: RunContext): StageTable[] {
  const { parsed, project } = run.compiled;
  return parsed.sources
    .filter((s: SourceNode) => run.selected.has(s.uniqueId) && s.loader !== undefined && s.options.enabled !== false)
    .map((s) => stageTableOf(s, project.root, project.target.raw_database));
}

/**
 * Staging: one step per selected source table, loading it into `<raw_database>.<source>__<table>`;
 * for a whole-database source, also one per table that nothing reads (listed in the database).
 * Models that read a source wait for its step (linkSteps follows the graph's edges).
 */
export const stagePhase: Phase = {
  name: 'stage',
  relations: (run) => selectedStageTables(run).map((t) => t.relation),
  async steps(run: RunContext, adapter: Adapter): Promise<ExecStep[]> {
    const sharding = (tables: readonly StageTable[]) =>
      shardingOnTarget(tables, run.compiled.project.target, (message) => run.reporter.emit({ type: 'info', message }));
    const selected = sharding(selectedStageTables(run));
    const dumps = new DumpFiles();
    // Unreachable MySQL or a missing table is an invalid invocation: found before anything runs.
    for (const t of selected) if (t.loader === 'mysql') await preflightMySql(adapter, t, dumps);
    const tables = [...selected, ...sharding(await unreadWholeDatabaseTables(run, adapter, dumps))];
    if (tables.length === 0) return [];
    for (const db of new Set(tables.map((t) => t.relation.database))) await ensureStagingTables(adapter, db);
    const runId = scratchRunId(run);
    const fullRefresh = run.options.fullRefresh === true;
    const prune = run.options.prune === true;
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
          stamp: { loadId: `${run.invocationId}`, loadedAt: clickhouseTime(loadedAt) },
          runId,
          fullRefresh,
          prune,
          fedModels: fedModelsOf(run.compiled.manifest, run.compiled.dag, table.uniqueId),
          warn: (warning) => run.reporter.emit({ type: 'warning', warning }),
          info: (message) => run.reporter.emit({ type: 'info', message }),
        };
        try {
          const load =
            table.loader === 'mysql'
              ? table.source.kind === 'live'
                ? await loadLiveTable(ctx, table)
                : await loadDumpTable(ctx, table, dumps)
              : await loadFileTable(ctx, table);
          return { ...outcome(run, table, load), queryTimeMs: metered.elapsedMs() };
        } finally {
          if (--pending === 0) dumps.dispose();
        }
      },
    }));
  },
};

function outcome(run: RunContext, table: StageTable, load: TableLoad): StepOutput {
  const name = `${table.sourceName}.${table.tableName}`;
  const files = table.loader === 'mysql' && table.source.kind === 'live' ? '' : `${load.files} file(s) (${load.skipped} unchanged), `;
  const summary = `${name}: ${files}${load.rows} row(s) loaded, ${load.rejected} rejected`;
  run.reporter.emit({ type: 'info', message: summary });
  const relationName = `${table.relation.database}.${table.relation.name}`;
  if (load.rejected > 0) {
    const where = `\`kiln show --quarantine ${table.sourceName}.${table.tableName}\` (${table.relation.database}._kiln_quarantine)`;
    if (overRejectLimit(table.maxRejected, load.rejected, load.rows + load.rejected)) {
      return {
        status: 'error',
        rowsAffected: load.rows,
        failures: load.rejected,
        message: `${table.location.file}${table.location.line ? `:${table.location.line}` : ''}: ${name}: ${load.rejected} rejected record(s) exceed max_rejected ${table.maxRejected}\n  hint: see ${where} for each record, its file, line and reason`,
        relationName,
      };
    }
    run.reporter.emit({
      type: 'warning',
      warning: { message: `${name}: ${load.rejected} record(s) rejected`, location: table.location, hint: `see ${where}` },
    });
  }
  return { status: 'success', rowsAffected: load.rows, message: summary, relationName };
}
