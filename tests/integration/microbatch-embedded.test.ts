import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, STACK_FRAME, writeProject } from '../helpers/kiln-cli.js';
import { BOUNDARY_FILES, MICROBATCH_FILES, microbatchBoundaryScenario, microbatchScenario } from '../helpers/microbatch-project.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** incremental_strategy='microbatch' through the real CLI on the embedded engine. */
afterAll(removeProjects);

describe('microbatch on the embedded engine', () => {
  it('builds batches, filters upstream to each batch, backfills, and retries only failed batches', async () => {
    const dir = writeProject({ 'project.yml': projectYml('mb'), ...MICROBATCH_FILES });
    await microbatchScenario(dir, 'analytics', (args) => runKiln(dir, args), (sql) => queryWarehouse(join(dir, '.kiln/dev'), sql));
    const parts = await queryWarehouse<{ partition: string }>(join(dir, '.kiln/dev'), `SELECT DISTINCT partition_id AS partition FROM system.parts WHERE database = 'analytics' AND table = 'events_by_batch' AND active ORDER BY partition`);
    expect(parts).toHaveLength(3); // one partition per day batch
  }, 300_000);

  it('reruns of windows overlapping built batches replace them whole: rows on a boundary counted once', async () => {
    const dir = writeProject({ 'project.yml': projectYml('mb'), ...BOUNDARY_FILES });
    await microbatchBoundaryScenario(dir, 'analytics', (args) => runKiln(dir, args), (sql) => queryWarehouse(join(dir, '.kiln/dev'), sql));
  }, 300_000);

  it('bad microbatch configs are exit 2 at their line; a bad --event-time-start is exit 2', async () => {
    const dir = writeProject({
      'project.yml': projectYml('mb'),
      'models/m.sql': `{{ config(materialized='incremental', incremental_strategy='microbatch', batch_size='week', event_time='ts') }}\nselect now() as ts\n`,
    });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\/m\.sql:1: unknown batch_size 'week'/);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    const flag = await runKiln(dir, ['run', '--event-time-start', 'yesterday']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--event-time-start 'yesterday' is not a date or time/);
  }, 120_000);
});
