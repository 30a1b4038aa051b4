import { projectYml } from './kiln-cli.js';

/**
 * The microbatch crash-point sweeps' project (tests/sweeps/crash-point-microbatch*.test.ts): a
 * seed of events over three UTC days and a day-batched microbatch model with lookback 2, so a
 * later run replaces three batches. Rows sit on the day boundaries (23:59:59, 00:00:00).
 */

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const [D0, D1, D2] = [day(-2), day(-1), day(0)];

export const SWEEP_EVENTS_V1 = `ts,user_id\n${D0} 10:00:00,1\n${D0} 23:59:59,2\n${D1} 00:00:00,3\n${D1} 12:00:00,4\n${D2} 00:30:00,5\n`;
/** Late rows in each of the three batches the next run replaces, two on boundaries. */
export const SWEEP_EVENTS_V2 = `${SWEEP_EVENTS_V1}${D0} 23:00:00,6\n${D1} 23:59:59,7\n${D2} 00:00:00,8\n`;

/** The project's files; `projectFile` is its project.yml (the embedded target by default). */
export function microbatchSweepFiles(projectFile = projectYml('mbs')): Record<string, string> {
  return {
    'project.yml': projectFile,
    'seeds/events.yml': 'seeds:\n  - name: events\n    config: { column_types: { ts: DateTime, user_id: UInt32 } }\n',
    'seeds/events.csv': SWEEP_EVENTS_V1,
    'models/by_batch.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='day', lookback=2, begin='${D0}') }}
select ts, user_id from {{ ref('events') }}
`,
  };
}

export type ReadRows = (sql: string) => Promise<Array<Record<string, unknown>>>;

/** Each day's rows of `db.table`, as sorted text, by day. */
export async function rowsByDay(read: ReadRows, db: string, table: string): Promise<Map<string, string>> {
  const rows = await read(
    `SELECT toString(toDate(ts)) AS d, arrayStringConcat(arraySort(groupArray(concat(toString(ts), '#', toString(user_id)))), ' ') AS r FROM ${db}.${table} GROUP BY d`,
  );
  return new Map(rows.map((x) => [String(x.d), String(x.r)]));
}

/** A problem when some day of by_batch is neither as `before` nor as the events it is built from. */
export async function tornDay(read: ReadRows, db: string, before: ReadonlyMap<string, string>): Promise<string | null> {
  const [got, after] = [await rowsByDay(read, db, 'by_batch'), await rowsByDay(read, db, 'events')];
  for (const d of new Set([...before.keys(), ...after.keys(), ...got.keys()])) {
    const have = got.get(d) ?? '';
    if (have !== (before.get(d) ?? '') && have !== (after.get(d) ?? '')) {
      return `batch ${d} holds ${have || 'nothing'}: neither its old rows (${before.get(d) ?? 'none'}) nor its new ones (${after.get(d) ?? 'none'})`;
    }
  }
  return null;
}
