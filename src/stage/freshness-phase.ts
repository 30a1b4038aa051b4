import type { Adapter } from '../adapters/adapter.js';
import { quoteIdentifier } from '../adapters/quoting.js';
import * as sql from '../adapters/staging-sql.js';
import { KilnError, type SourceLocation } from '../errors.js';
import type { Phase, RunContext } from '../execute/phase.js';
import type { ExecStep, StepOutput } from '../execute/run-steps.js';
import { sourceDatabase } from '../project/nodes.js';
import { ledgerOf } from './ledger.js';

const PERIOD_SECONDS: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86400 };

interface Threshold {
  readonly seconds: number;
  readonly text: string;
}

/** `{count: 12, period: hour}` (dbt's shape) → seconds; null when the rule is absent. */
function thresholdOf(value: unknown, key: string, location: SourceLocation): Threshold | null {
  if (value === undefined || value === null) return null;
  const v = value as { count?: unknown; period?: unknown };
  const count = Number(v.count);
  const period = String(v.period ?? '').replace(/s$/, '');
  if (!Number.isFinite(count) || count <= 0 || !PERIOD_SECONDS[period]) {
    throw new KilnError('CONFIG_INVALID', `freshness ${key} must be {count: N, period: minute|hour|day}`, { location });
  }
  return { seconds: count * PERIOD_SECONDS[period]!, text: `${count} ${period}${count === 1 ? '' : 's'}` };
}

/**
 * `kiln freshness`: for each selected source table with a `freshness` rule, the newest
 * `loaded_at_field` value in its raw table (or, without one, its last load in the ledger) against
 * `warn_after` / `error_after`.
 */
export const freshnessPhase: Phase = {
  name: 'freshness',
  // Reads raw tables and the ledger only.
  writes: () => false,
  steps(run: RunContext, adapter: Adapter): ExecStep[] {
    const { parsed, project } = run.compiled;
    const out: ExecStep[] = [];
    for (const s of parsed.sources) {
      if (!run.selected.has(s.uniqueId) || !s.options.freshness) continue;
      const location = s.patch ?? { file: s.originalFilePath };
      const rule = s.options.freshness as Record<string, unknown>;
      const warnAfter = thresholdOf(rule.warn_after, 'warn_after', location);
      const errorAfter = thresholdOf(rule.error_after, 'error_after', location);
      if (!warnAfter && !errorAfter) continue;
      const database = sourceDatabase(s, project.target.raw_database);
      const field = typeof s.options.loaded_at_field === 'string' ? s.options.loaded_at_field : null;
      out.push({
        uniqueId: s.uniqueId,
        deps: [],
        label: `freshness of source ${s.sourceName}.${s.tableName}`,
        originalFilePath: s.originalFilePath,
        async execute(): Promise<StepOutput> {
          const relation = { database, name: s.identifier };
          const exists = (await adapter.columns(relation)).length > 0;
          let newest: number | null = null;
          if (field && exists) {
            const r = await adapter.query<{ t: string | number; n: string | number }>(sql.maxOf(relation, quoteIdentifier(field)));
            newest = Number(r.rows[0]?.n ?? 0) > 0 ? Number(r.rows[0]!.t) : null;
          } else if (!field) {
            const r = await adapter.query<{ t: string | number }>(sql.lastLoadedAt(ledgerOf(database), s.sourceName, s.tableName)).catch(() => ({ rows: [] }));
            const t = Number(r.rows[0]?.t ?? 0);
            newest = t > 0 ? t : null;
          }
          const name = `${s.sourceName}.${s.tableName}`;
          if (newest === null) {
            return { status: errorAfter ? 'error' : 'warn', message: `${name}: never loaded${field ? ` (no ${field} in ${database}.${s.identifier})` : ''}; run kiln stage` };
          }
          const age = Math.max(0, Date.now() / 1000 - newest);
          const ageText = age >= 86400 ? `${(age / 86400).toFixed(1)} days` : age >= 3600 ? `${(age / 3600).toFixed(1)} hours` : `${Math.round(age / 60)} minutes`;
          const newestText = new Date(newest * 1000).toISOString();
          if (errorAfter && age > errorAfter.seconds) {
            return { status: 'error', message: `${name}: newest data ${newestText} is ${ageText} old, more than error_after ${errorAfter.text}` };
          }
          if (warnAfter && age > warnAfter.seconds) {
            run.reporter.emit({ type: 'warning', warning: { message: `${name}: newest data is ${ageText} old, more than warn_after ${warnAfter.text}`, location } });
            return { status: 'warn', message: `${name}: newest data ${newestText} is ${ageText} old, more than warn_after ${warnAfter.text}` };
          }
          return { status: 'pass', message: `${name}: newest data ${newestText} is ${ageText} old` };
        },
      });
    }
    return out;
  },
};
