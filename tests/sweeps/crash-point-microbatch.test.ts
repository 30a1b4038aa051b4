import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { removeProjects, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { kilnOk, sweepReported, T1 } from '../helpers/materialization-sweeps.js';
import { microbatchSweepFiles, rowsByDay, SWEEP_EVENTS_V2, tornDay, type ReadRows } from '../helpers/microbatch-sweep.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * Crash-point sweeps of a microbatch model on the embedded engine (issue 15): a later run
 * replacing three day batches, each with its own REPLACE PARTITION (19 crash points), and with
 * KILN_SWEEPS=all its first build (every batch into one scratch table, swapped in). After every
 * kill the rerun must leave the clean run's rows (the harness compares whole tables as
 * multisets, so a row doubled at a batch boundary or a batch missing shows up), and right after
 * the kill every day of the table must be wholly the old batch or wholly the new one. The same
 * later-run sweep on clickhouse-server 18.16: crash-point-microbatch-server.test.ts.
 */
afterAll(removeProjects);

const SELECT = ['--select', 'by_batch'];
const reader = (dir: string): ReadRows => (sql) => queryWarehouse(join(dir, '.kiln/dev'), sql);

describe('microbatch', () => {
  // 9 crash points, ~1 minute here: its publishing step is the table swap the table sweeps cover.
  it.skipIf(!ALL_SWEEPS)('first build: every batch into one scratch table, swapped in (KILN_SWEEPS=all)', async () => {
    await sweepReported(
      'kiln run (microbatch, first build of 3 batches)',
      {
        prepare: async () => {
          const dir = writeProject(microbatchSweepFiles());
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
          const dir = writeProject(microbatchSweepFiles());
          await kilnOk(dir, ['build']);
          before = await rowsByDay(reader(dir), 'analytics', 'by_batch');
          writeFiles(dir, { 'seeds/events.csv': SWEEP_EVENTS_V2 });
          await kilnOk(dir, ['seed']);
          return dir;
        },
        args: ['run', ...SELECT, ...T1],
        afterCrash: (dir) => tornDay(reader(dir), 'analytics', before),
      },
      15,
    );
  });
});
