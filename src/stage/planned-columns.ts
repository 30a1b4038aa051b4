import type { Adapter, ColumnInfo } from '../adapters/adapter.js';
import type { Relation } from '../adapters/ddl.js';
import { LEDGER_COLUMNS, QUARANTINE_COLUMNS } from '../adapters/staging-sql.js';
import { KilnError } from '../errors.js';
import { ledgerOf, quarantineOf } from './ledger.js';
import type { RunContext } from '../execute/phase.js';
import { plannedFileColumns } from './file-loader.js';
import { DumpFiles, plannedMySqlColumns, preflightMySql } from './mysql-loader.js';
import { stageTableOf } from './source-options.js';
import { clickhouseTime } from './stage-context.js';

/** Answers, per source table, the columns its raw relation has on the target or will have once staged. */
export interface SourceColumnsPlanner {
  /** The columns, or why they cannot be known (a missing dump, no file yet, a table nobody loads). */
  columnsOf(sourceId: string): Promise<ColumnInfo[] | KilnError>;
  /** Staging's own tables (ledger, quarantine) that models may read, with their columns. */
  stagingTables(): Promise<ReadonlyArray<{ readonly relation: Relation; readonly columns: ColumnInfo[] }>>;
  /** Removes the temp files read dumps needed. */
  dispose(): void;
}

/**
 * For validation before any change: a source's raw table as it stands, else as staging would
 * create it (a CSV's header, JSON lines' `raw`, a MySQL table's described columns), so models
 * reading a source that is not staged yet are checked too. Reads files and MySQL schemas only.
 */
export function sourceColumnsPlanner(run: RunContext, adapter: Adapter): SourceColumnsPlanner {
  const { manifest, parsed, project } = run.compiled;
  const dumps = new DumpFiles();
  const stamp = { loadId: run.invocationId, loadedAt: clickhouseTime(new Date()) };
  return {
    async columnsOf(sourceId) {
      const source = manifest.sources[sourceId];
      if (!source) return new KilnError('INTERNAL', `no source ${sourceId}`);
      const existing = await adapter.columns({ database: source.database, name: source.identifier });
      if (existing.length > 0) return existing;
      const node = parsed.sources.find((s) => s.uniqueId === sourceId);
      const name = `${source.source_name}.${source.name}`;
      const where = { file: source.original_file_path };
      if (!node || node.loader === undefined || node.options.enabled === false) {
        return new KilnError('SQL_INVALID', `source ${name} (${source.database}.${source.identifier}) does not exist on target '${project.target.name}', and kiln does not load it`, {
          location: where,
          hint: 'create it, or give the source a loader so kiln stages it',
        });
      }
      try {
        const table = stageTableOf(node, project.root, project.target.raw_database);
        // A table missing from the database or dump is said as staging says it (naming the tables there).
        if (table.loader === 'mysql') await preflightMySql(adapter, table, dumps);
        const planned = table.loader === 'mysql' ? await plannedMySqlColumns(adapter, table, dumps, stamp) : await plannedFileColumns(adapter, table);
        if (planned) return planned;
        return new KilnError('SQL_INVALID', `source ${name}: no file matches its path yet, so the columns of ${source.database}.${source.identifier} are unknown`, {
          location: where,
          hint: 'check path:, or declare the columns under columns:',
        });
      } catch (err) {
        if (err instanceof KilnError) return err;
        throw err;
      }
    },
    async stagingTables() {
      if (!parsed.sources.some((s) => s.loader !== undefined)) return [];
      const db = project.target.raw_database;
      const tables = [
        { relation: ledgerOf(db), planned: LEDGER_COLUMNS },
        { relation: quarantineOf(db), planned: QUARANTINE_COLUMNS },
      ];
      return Promise.all(
        tables.map(async ({ relation, planned }) => {
          const existing = await adapter.columns(relation);
          return { relation, columns: existing.length ? existing : planned.map((c) => ({ name: c.name, type: adapter.portableType(c.type) })) };
        }),
      );
    },
    dispose: () => dumps.dispose(),
  };
}
