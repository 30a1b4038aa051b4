import { afterAll, describe, expect, it } from 'vitest';
import { crashSweep, type SweepScenario } from '../helpers/crash-sweep.js';
import { incrementalProject, MODEL_OF, PROJECT_YML, STRATEGIES } from '../helpers/incremental-project.js';
import { projectYml, removeProjects, runKiln, writeFiles, writeProject } from '../helpers/kiln-cli.js';

/**
 * Crash-point sweeps of the materializations on the embedded engine (issue 12): for every
 * statement i of the command, kill kiln right after it, run the command again, and expect the
 * clean run's warehouse (rows per relation, no scratch relation left). Where a reader must see a
 * change whole or not at all, `atomic` also checks the model's relation right after each crash.
 * Each sweep's project is a few rows; `--threads 1` keeps the statement order the same each run.
 */
afterAll(removeProjects);

const T1 = ['--threads', '1'];
const vars = (v: Record<string, unknown>): string[] => ['--vars', JSON.stringify(v)];

async function ok(dir: string, args: readonly string[]): Promise<void> {
  const r = await runKiln(dir, args);
  if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

async function sweep(name: string, scenario: SweepScenario, minPoints: number): Promise<void> {
  const result = await crashSweep(scenario);
  console.log(`${name}: ${result.points} crash points`);
  expect(result.failures).toEqual([]);
  expect(result.points).toBeGreaterThanOrEqual(minPoints);
}

describe('seeds', () => {
  it('a reseed of a changed seed: each rerun ends with the new seed whole', async () => {
    await sweep(
      'kiln seed (changed seed)',
      {
        prepare: async () => {
          const dir = writeProject({ 'project.yml': projectYml('sweep'), 'seeds/countries.csv': 'code,name\nDE,Germany\nFR,France\n' });
          await ok(dir, ['seed']);
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
    await sweep('kiln run (table, first build)', { prepare: async () => writeProject(TABLE_PROJECT), args: ['run', ...T1], atomic: ['analytics.dim'] }, 4);
  });

  it('rebuild of an existing table', async () => {
    await sweep(
      'kiln run (table, rebuild)',
      {
        prepare: async () => {
          const dir = writeProject(TABLE_PROJECT);
          await ok(dir, ['run']);
          return dir;
        },
        args: ['run', ...T1, ...vars({ n: 5, ver: 2 })],
        atomic: ['analytics.dim'],
      },
      5,
    );
  });
});

/**
 * Incremental models (tests/helpers/incremental-project.ts): a first build of 20 source rows in
 * `prepare`, then 30 source rows with a new version arrive (the `src` table is rebuilt), and the
 * swept command is the incremental run of one model.
 */
async function incrementalPrepared(files: Record<string, string>): Promise<string> {
  const dir = writeProject(files);
  await ok(dir, ['run']);
  await ok(dir, ['run', '--select', 'src', ...vars({ n: 30, ver: 2 })]);
  return dir;
}

describe('incremental models', () => {
  it.each(STRATEGIES)('%s: each rerun adds the new rows exactly once', async (strategy) => {
    const model = MODEL_OF[strategy];
    await sweep(
      `kiln run (incremental ${strategy})`,
      { prepare: () => incrementalPrepared(incrementalProject([strategy])), args: ['run', '--select', model, ...T1], atomic: [`analytics.${model}`] },
      5,
    );
  });

  // New columns: the increment and the column arrive together or not at all.
  it.each(['append', 'insert_overwrite'] as const)('%s with on_schema_change append_new_columns and a new column', async (strategy) => {
    const model = `${strategy}_wider`;
    const partition = strategy === 'insert_overwrite' ? ", partition_by='day'" : '';
    const files = {
      'project.yml': PROJECT_YML,
      'models/src.sql': incrementalProject([])['models/src.sql']!,
      [`models/${model}.sql`]: `{{ config(materialized='incremental', incremental_strategy='${strategy}', on_schema_change='append_new_columns', order_by='id'${partition}) }}
SELECT id, day{% if var('extra', false) %}, id * 2 AS extra{% endif %} FROM {{ ref('src') }}
{% if is_incremental() %}WHERE ${strategy === 'append' ? 'id > (SELECT max(id) FROM {{ this }})' : 'day >= (SELECT max(day) FROM {{ this }})'}{% endif %}
`,
    };
    await sweep(
      `kiln run (incremental ${strategy}, new column)`,
      { prepare: () => incrementalPrepared(files), args: ['run', '--select', model, ...T1, ...vars({ extra: true })], atomic: [`analytics.${model}`] },
      5,
    );
  });

  it('--full-refresh of an incremental model', async () => {
    const model = MODEL_OF.delete_insert;
    await sweep(
      'kiln run --full-refresh (incremental)',
      { prepare: () => incrementalPrepared(incrementalProject(['delete_insert'])), args: ['run', '--select', model, '--full-refresh', ...T1], atomic: [`analytics.${model}`] },
      4,
    );
  });
});
