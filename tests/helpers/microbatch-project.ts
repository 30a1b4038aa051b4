import { expect } from 'vitest';
import { readJson, writeFiles, type KilnResult } from './kiln-cli.js';

/**
 * The microbatch scenario shared by the embedded and server suites. Event times are days relative
 * to today (UTC), since a microbatch run's batches count back from the clock.
 */

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
export const D0 = day(-2);
export const D1 = day(-1);
export const D2 = day(0);

const EVENTS_V1 = `ts,user_id,kind\n${D0} 10:00:00,1,view\n${D0} 11:00:00,2,view\n${D1} 09:00:00,1,buy\n${D2} 00:30:00,3,view\n`;
/** Late rows: one on D0 (before the lookback), one on D2. */
const EVENTS_V2 = `${EVENTS_V1}${D0} 23:00:00,4,view\n${D2} 00:45:00,5,buy\n`;

/** Clicks, a staged source declaring event_time: 2 on D0, 1 on D1, 1 on D2. */
const CLICKS = `ts,user_id\n${D0} 08:00:00,1\n${D0} 23:59:59,2\n${D1} 00:00:00,1\n${D2} 01:00:00,3\n`;

export const MICROBATCH_FILES = {
  'sources.yml': `sources:
  - name: web
    loader: csv
    tables:
      - name: clicks
        path: data/clicks.csv
        config: { event_time: ts }
        columns:
          - { name: ts, type: DateTime }
          - { name: user_id, type: UInt32 }
`,
  'data/clicks.csv': CLICKS,
  'seeds/events.yml': `seeds:
  - name: events
    config: { event_time: ts, column_types: { ts: DateTime, user_id: UInt32, kind: String } }
`,
  'seeds/events.csv': EVENTS_V1,
  // upstream_rows and source_rows count what the batch reads of events and clicks: its own day only, if the filter works.
  'models/events_by_batch.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='day', lookback=1, begin='${D0}') }}
select ts, user_id, kind,
       (select count() from {{ ref('events') }}) as upstream_rows,
       (select count() from {{ source('web', 'clicks') }}) as source_rows,
       throwIf(kind = 'buy' and {{ var('fail_buys', 0) }} = 1) as _check
from {{ ref('events') }}
`,
};

export type ReadRows = (sql: string) => Promise<Array<Record<string, unknown>>>;

interface BatchResults {
  results: Array<{ unique_id: string; status: string; batch_results?: { successful: Array<[string, string]>; failed: Array<[string, string]> } }>;
}

const ok = (r: KilnResult) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);

export async function microbatchScenario(dir: string, db: string, kiln: (args: string[]) => Promise<KilnResult>, read: ReadRows): Promise<void> {
  const perDay = async () =>
    (await read(`SELECT toString(toDate(ts)) AS d, count() AS n, max(upstream_rows) AS up FROM ${db}.events_by_batch GROUP BY d ORDER BY d`)).map((r) => `${r.d} ${r.n} rows, read ${r.up}`);
  const sourceRowsPerDay = async () =>
    (await read(`SELECT toString(toDate(ts)) AS d, max(source_rows) AS src FROM ${db}.events_by_batch GROUP BY d ORDER BY d`)).map((r) => `${r.d} read ${r.src} clicks`);
  const batches = () => readJson<BatchResults>(dir, 'target/run_results.json').results.find((r) => r.unique_id === 'model.mb.events_by_batch')!;
  const days = (list: Array<[string, string]> | undefined) => (list ?? []).map(([s]) => s.slice(0, 10));

  // First build: every batch from begin to today; each reads only its own day of events.
  ok(await kiln(['build']));
  expect(await perDay()).toEqual([`${D0} 2 rows, read 2`, `${D1} 1 rows, read 1`, `${D2} 1 rows, read 1`]);
  expect(days(batches().batch_results?.successful)).toEqual([D0, D1, D2]);
  // A source declaring event_time is filtered to the batch as a ref is (4 clicks in all; 23:59:59 and 00:00:00 fall either side of D0/D1).
  expect(await sourceRowsPerDay()).toEqual([`${D0} read 2 clicks`, `${D1} read 1 clicks`, `${D2} read 1 clicks`]);

  // Late rows: an incremental run replaces today's batch and the one before (lookback 1), not D0.
  writeFiles(dir, { 'seeds/events.csv': EVENTS_V2 });
  ok(await kiln(['seed']));
  ok(await kiln(['run']));
  expect(days(batches().batch_results?.successful)).toEqual([D1, D2]);
  expect(await perDay()).toEqual([`${D0} 2 rows, read 2`, `${D1} 1 rows, read 1`, `${D2} 2 rows, read 2`]);

  // A backfill window picks up D0's late row.
  ok(await kiln(['run', '--event-time-start', D0, '--event-time-end', D1]));
  expect(days(batches().batch_results?.successful)).toEqual([D0]);
  expect(await perDay()).toEqual([`${D0} 3 rows, read 3`, `${D1} 1 rows, read 1`, `${D2} 2 rows, read 2`]);

  // A failing batch fails alone; retry reruns only it.
  const failing = await kiln(['run', '--event-time-start', D0, '--vars', '{fail_buys: 1}']);
  expect(failing.code).toBe(1);
  const failed = batches();
  expect(failed.status).toBe('error');
  expect(days(failed.batch_results?.failed)).toEqual([D1, D2]);
  expect(days(failed.batch_results?.successful)).toEqual([D0]);
  expect(await perDay()).toEqual([`${D0} 3 rows, read 3`, `${D1} 1 rows, read 1`, `${D2} 2 rows, read 2`]);
  ok(await kiln(['retry']));
  const retried = batches();
  expect(retried.status).toBe('success');
  expect(days(retried.batch_results?.successful)).toEqual([D1, D2]);
  expect(await perDay()).toEqual([`${D0} 3 rows, read 3`, `${D1} 1 rows, read 1`, `${D2} 2 rows, read 2`]);
}

/**
 * Batch boundaries: rows at 23:59:59 and 00:00:00, reruns of windows that overlap built batches
 * (a window starting and ending mid-batch, one ending exactly on a boundary, the lookback), each
 * replacing whole batches. After every run the table is exactly the seed's rows: a row on a
 * boundary counted once, in the batch its time falls in.
 */
const BOUNDARY_V1 = `ts,user_id\n${D0} 00:00:00,1\n${D0} 23:59:59,2\n${D1} 00:00:00,3\n${D1} 23:59:59,4\n${D2} 00:00:00,5\n`;
/** Late rows on the boundaries of D0/D1 and D1/D2. */
const BOUNDARY_V2 = `${BOUNDARY_V1}${D0} 23:59:59,6\n${D1} 00:00:00,7\n${D2} 00:00:00,8\n`;

export const BOUNDARY_FILES = {
  'seeds/events.yml': 'seeds:\n  - name: events\n    config: { column_types: { ts: DateTime, user_id: UInt32 } }\n',
  'seeds/events.csv': BOUNDARY_V1,
  'models/by_batch.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='day', lookback=1, begin='${D0}') }}
select ts, user_id from {{ ref('events') }}
`,
};

export async function microbatchBoundaryScenario(dir: string, db: string, kiln: (args: string[]) => Promise<KilnResult>, read: ReadRows): Promise<void> {
  const rows = async (table: string) =>
    (await read(`SELECT concat(toString(ts), ' #', toString(user_id)) AS r FROM ${db}.${table} ORDER BY ts, user_id`)).map((r) => String(r.r));
  const batchDays = () => (readJson<BatchResults>(dir, 'target/run_results.json').results.find((r) => r.unique_id === 'model.mb.by_batch')!.batch_results?.successful ?? []).map(([s]) => s.slice(0, 10));
  const seedOnly = async (version: string) => {
    writeFiles(dir, { 'seeds/events.csv': version });
    ok(await kiln(['seed']));
  };

  ok(await kiln(['build']));
  expect(await rows('by_batch')).toEqual(await rows('events'));
  expect(batchDays()).toEqual([D0, D1, D2]);

  // A window from mid-D0 to mid-D1 reruns both whole batches: nothing doubled at their boundary.
  ok(await kiln(['run', '--event-time-start', `${D0} 12:00:00`, '--event-time-end', `${D1} 12:00:00`]));
  expect(batchDays()).toEqual([D0, D1]);
  expect(await rows('by_batch')).toEqual(await rows('events'));

  // Late rows on both boundaries; a window ending exactly at D2 00:00:00 replaces D1 only.
  await seedOnly(BOUNDARY_V2);
  ok(await kiln(['run', '--event-time-start', D1, '--event-time-end', `${D2} 00:00:00`]));
  expect(batchDays()).toEqual([D1]);
  expect(await rows('by_batch')).toEqual([`${D0} 00:00:00 #1`, `${D0} 23:59:59 #2`, `${D1} 00:00:00 #3`, `${D1} 00:00:00 #7`, `${D1} 23:59:59 #4`, `${D2} 00:00:00 #5`]);

  // The lookback reruns D1 again and D2: D2's late row arrives, D1's rows stay once.
  ok(await kiln(['run']));
  expect(batchDays()).toEqual([D1, D2]);
  expect(await rows('by_batch')).toEqual([`${D0} 00:00:00 #1`, `${D0} 23:59:59 #2`, `${D1} 00:00:00 #3`, `${D1} 00:00:00 #7`, `${D1} 23:59:59 #4`, `${D2} 00:00:00 #5`, `${D2} 00:00:00 #8`]);

  // D0, before the lookback, only by a window: then the table is the seed's rows exactly.
  ok(await kiln(['run', '--event-time-start', D0, '--event-time-end', D1]));
  expect(batchDays()).toEqual([D0]);
  expect(await rows('by_batch')).toEqual(await rows('events'));
  expect(await rows('by_batch')).toHaveLength(8);
}
