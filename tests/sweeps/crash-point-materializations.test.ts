import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { incrementalProject, MODEL_OF } from '../helpers/incremental-project.js';
import { projectYml, removeProjects, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { incrementalPrepared, kilnOk, sweepReported, T1, vars } from '../helpers/materialization-sweeps.js';

/**
 * Crash-point sweeps of seeds and tables on the embedded engine (issue 12): for every statement
 * i of the command, kill kiln right after it, run the command again, and expect the clean run's
 * warehouse (rows per relation, no scratch relation left). `atomic` also checks, right after each
 * kill, that the relation is either as before or as after: readers see the change whole or not at
 * all. Each project is a few rows; `--threads 1` keeps the statement order the same each run.
 * The incremental strategies are swept in crash-point-incremental.test.ts.
 */
afterAll(removeProjects);

describe('seeds', () => {
  it('a reseed of a changed seed: each rerun ends with the new seed whole', async () => {
    await sweepReported(
      'kiln seed (changed seed)',
      {
        prepare: async () => {
          const dir = writeProject({ 'project.yml': projectYml('sweep'), 'seeds/countries.csv': 'code,name\nDE,Germany\nFR,France\n' });
          await kilnOk(dir, ['seed']);
          writeFiles(dir, { 'seeds/countries.csv': 'code,name\nDE,Deutschland\nPL,Poland\nIT,Italy\n' });
          return dir;
        },
        args: ['seed', ...T1],
        atomic: ['analytics.countries'],
      },
      4,
    );
  });
});

/** A table model with idempotent hooks: a log table made by the pre_hook, one row added once by the post_hook. */
const TABLE_PROJECT = {
  'project.yml': projectYml('sweep'),
  'models/dim.sql': `{{ config(materialized='table', order_by='id',
    pre_hook="CREATE TABLE IF NOT EXISTS analytics.hook_log (model String) ENGINE = MergeTree ORDER BY model",
    post_hook="INSERT INTO analytics.hook_log SELECT 'dim' WHERE 'dim' NOT IN (SELECT model FROM analytics.hook_log)") }}
SELECT toUInt32(number) AS id, concat('v{{ var('ver', 1) }}-', toString(number)) AS label FROM numbers({{ var('n', 3) }})
`,
};

describe('tables', () => {
  it('first build, with pre and post hooks', async () => {
    await sweepReported('kiln run (table, first build)', { prepare: async () => writeProject(TABLE_PROJECT), args: ['run', ...T1], atomic: ['analytics.dim'] }, 4);
  });

  it.skipIf(!ALL_SWEEPS)('rebuild of an existing table (KILN_SWEEPS=all)', async () => {
    await sweepReported(
      'kiln run (table, rebuild)',
      {
        prepare: async () => {
          const dir = writeProject(TABLE_PROJECT);
          await kilnOk(dir, ['run']);
          return dir;
        },
        args: ['run', ...T1, ...vars({ n: 5, ver: 2 })],
        atomic: ['analytics.dim'],
      },
      5,
    );
  });

  it('--full-refresh of an incremental model (built as a table)', async () => {
    const model = MODEL_OF.delete_insert;
    await sweepReported(
      'kiln run --full-refresh (incremental)',
      { prepare: () => incrementalPrepared(incrementalProject(['delete_insert'])), args: ['run', '--select', model, '--full-refresh', ...T1], atomic: [`analytics.${model}`] },
      4,
    );
  });
});
