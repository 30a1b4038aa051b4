import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { projectYml, removeProjects, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { kilnOk, sweepReported, T1 } from '../helpers/materialization-sweeps.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Crash-point sweeps of a microbatch model on the embedded engine (issue 15): a later run
 * replacing three day batches, each with its own REPLACE PARTITION (19 crash points), and with
 * KILN_SWEEPS=all its first build (every batch into one scratch table, swapped in). After every kill the rerun must leave the clean run's rows
 * (the harness compares whole tables as multisets, so a row doubled at a batch boundary or a
 * batch missing shows up), and right after the kill every day of the table must be wholly the
 * old batch or wholly the new one. Rows sit on the day boundaries (23:59:59, 00:00:00).
 */
afterAll(removeProjects);

const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const [D0, D1, D2] = [day(-2), day(-1), day(0)];

const V1 = `ts,user_id\n${D0} 10:00:00,1\n${D0} 23:59:59,2\n${D1} 00:00:00,3\n${D1} 12:00:00,4\n${D2} 00:30:00,5\n`;
/** Late rows in each of the three batches the next run replaces (lookback 2), two on boundaries. */
const V2 = `${V1}${D0} 23:00:00,6\n${D1} 23:59:59,7\n${D2} 00:00:00,8\n`;

const FILES = {
  'project.yml': projectYml('mbs'),
  'seeds/events.yml': 'seeds:\n  - name: events\n    config: { column_types: { ts: DateTime, user_id: UInt32 } }\n',
  'seeds/events.csv': V1,
  'models/by_batch.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', event_time='ts', batch_size='day', lookback=2, begin='${D0}') }}
select ts, user_id from {{ ref('events') }}
`,
};
const SELECT = ['--select', 'by_batch'];

/** Each day's rows of `table`, as sorted text, by day. */
async function rowsByDay(dir: string, table: string): Promise<Map<string, string>> {
  const rows = await queryWarehouse<{ d: string; r: string }>(
    join(dir, '.kiln/dev'),
    `SELECT toString(toDate(ts)) AS d, arrayStringConcat(arraySort(groupArray(concat(toString(ts), '#', toString(user_id)))), ' ') AS r FROM analytics.${table} GROUP BY d`,
  );
  return new Map(rows.map((x) => [x.d, x.r]));
}

/** A problem when some day of by_batch is neither as `before` nor as the events it is built from. */
async function tornDay(dir: string, before: Map<string, string>): Promise<string | null> {
  const [got, after] = [await rowsByDay(dir, 'by_batch'), await rowsByDay(dir, 'events')];
  for (const d of new Set([...before.keys(), ...after.keys(), ...got.keys()])) {
    const have = got.get(d) ?? '';
    if (have !== (before.get(d) ?? '') && have !== (after.get(d) ?? '')) return `batch ${d} holds ${have || 'nothing'}: neither its old rows (${before.get(d) ?? 'none'}) nor its new ones (${after.get(d) ?? 'none'})`;
  }
  return null;
}

describe('microbatch', () => {
  // 9 crash points, ~1 minute here: its publishing step is the table swap the table sweeps cover.
  it.skipIf(!ALL_SWEEPS)('first build: every batch into one scratch table, swapped in (KILN_SWEEPS=all)', async () => {
    await sweepReported(
      'kiln run (microbatch, first build of 3 batches)',
      {
        prepare: async () => {
          const dir = writeProject(FILES);
          await kilnOk(dir, ['seed']);
          return dir;
        },
        args: ['run', ...SELECT, ...T1],
        atomic: ['analytics.by_batch'],
      },
      8,
    );
  });

  it('a later run replacing three batches: each is the old or the new one after a kill, and the rerun counts boundary rows once', async () => {
    let before = new Map<string, string>();
    await sweepReported(
      'kiln run (microbatch, 3 batches replaced)',
      {
        prepare: async () => {
          const dir = writeProject(FILES);
          await kilnOk(dir, ['build']);
          before = await rowsByDay(dir, 'by_batch');
          writeFiles(dir, { 'seeds/events.csv': V2 });
          await kilnOk(dir, ['seed']);
          return dir;
        },
        args: ['run', ...SELECT, ...T1],
        afterCrash: (dir) => tornDay(dir, before),
      },
      15,
    );
  });
});
