import { afterAll, describe, it } from 'vitest';
import { ALL_SWEEPS } from '../helpers/crash-sweep.js';
import { incrementalProject, MODEL_OF, PROJECT_YML, STRATEGIES } from '../helpers/incremental-project.js';
import { removeProjects } from '../helpers/kiln-cli.js';
import { incrementalPrepared, sweepReported, T1, vars } from '../helpers/materialization-sweeps.js';

/**
 * Crash-point sweeps of each incremental strategy on the embedded engine (issue 12). `prepare`
 * builds the model and lets new source rows arrive; the swept command is the incremental run.
 * After every kill the rerun must end with the clean run's rows (the increment exactly once), and
 * right after the kill the model's table must be as before or as after the run, never half-way.
 * The same sweeps on clickhouse-server 18.16: crash-point-incremental-server.test.ts.
 */
afterAll(removeProjects);

describe('incremental models', () => {
  it.each(STRATEGIES)('%s: each rerun adds the new rows exactly once', async (strategy) => {
    const model = MODEL_OF[strategy];
    await sweepReported(
      `kiln run (incremental ${strategy})`,
      { prepare: () => incrementalPrepared(incrementalProject([strategy])), args: ['run', '--select', model, ...T1], atomic: [`analytics.${model}`] },
      5,
    );
  });

  // on_schema_change: append_new_columns changes the table's columns too: they arrive with the rows.
  it.skipIf(!ALL_SWEEPS)('insert_overwrite with on_schema_change append_new_columns and a new column (KILN_SWEEPS=all)', async () => {
    const files = {
      'project.yml': PROJECT_YML,
      'models/src.sql': incrementalProject([])['models/src.sql']!,
      'models/wider.sql': `{{ config(materialized='incremental', incremental_strategy='insert_overwrite', on_schema_change='append_new_columns', partition_by='day', order_by='id') }}
SELECT id, day{% if var('extra', false) %}, id * 2 AS extra{% endif %} FROM {{ ref('src') }}
{% if is_incremental() %}WHERE day >= (SELECT max(day) FROM {{ this }}){% endif %}
`,
    };
    await sweepReported(
      'kiln run (incremental insert_overwrite, new column)',
      { prepare: () => incrementalPrepared(files), args: ['run', '--select', 'wider', ...T1, ...vars({ extra: true })], atomic: ['analytics.wider'] },
      5,
    );
  });
});
