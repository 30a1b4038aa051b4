import { afterAll, describe, it } from 'vitest';
import { embeddedView, type WarehouseView } from '../helpers/crash-sweep.js';
import { projectYml, removeProjects, writeFiles, writeProject } from '../helpers/kiln-cli.js';
import { kilnOk, sweepReported, T1 } from '../helpers/materialization-sweeps.js';
import { join } from 'node:path';

/**
 * Crash-point sweeps of `kiln snapshot` on the embedded engine: kill kiln after each statement of
 * a snapshot run that records changes, rerun, and expect the history one clean run leaves. The
 * timestamp sweep also checks that right after each kill the history is the old one or the new
 * one, never in between.
 */
afterAll(removeProjects);

const USERS_V1 = 'id,role,updated_at\n1,user,2020-01-01 00:00:00\n2,critic,2020-01-01 00:00:00\n3,user,2020-01-01 00:00:00\n';
/** User 1 changes role, user 3 is deleted, user 4 is new. */
const USERS_V2 = 'id,role,updated_at\n1,admin,2020-02-01 00:00:00\n2,critic,2020-01-01 00:00:00\n4,user,2020-02-01 00:00:00\n';

function snapshotProject(snapshot: string): Record<string, string> {
  return {
    'project.yml': projectYml('sweep', 'seeds:\n  +column_types: { id: UInt32, updated_at: DateTime }\n'),
    'seeds/users.csv': USERS_V1,
    'snapshots/users_history.sql': `{% snapshot users_history %}\n${snapshot}\nselect * from {{ ref('users') }}\n{% endsnapshot %}\n`,
  };
}

/** The project after its first snapshot, with the seed's second version loaded since. */
async function changedSinceFirstSnapshot(files: Record<string, string>): Promise<string> {
  const dir = writeProject(files);
  await kilnOk(dir, ['build']);
  writeFiles(dir, { 'seeds/users.csv': USERS_V2 });
  await kilnOk(dir, ['seed']);
  return dir;
}

describe('snapshots', () => {
  it('timestamp strategy: a changed, a new and a deleted row (hard_deletes ignore)', async () => {
    await sweepReported(
      'kiln snapshot (timestamp)',
      {
        prepare: () => changedSinceFirstSnapshot(snapshotProject("{{ config(unique_key='id', strategy='timestamp', updated_at='updated_at') }}")),
        args: ['snapshot', ...T1],
        atomic: ['analytics.users_history'],
      },
      5,
    );
  });

  it('check strategy with hard_deletes new_record: the same history, at the rerun\'s snapshot time', async () => {
    await sweepReported(
      'kiln snapshot (check, new_record)',
      {
        prepare: () => changedSinceFirstSnapshot(snapshotProject("{{ config(unique_key='id', strategy='check', check_cols=['role'], hard_deletes='new_record') }}")),
        args: ['snapshot', ...T1],
        view: async (dir) => withoutRunTimes(await embeddedView(join(dir, '.kiln/dev'))),
      },
      5,
    );
  });
});

/**
 * The check strategy and deletion records write the run's snapshot time (and dbt_scd_id hashes
 * it): a rerun writes its own. Such values (this century's, past the data's 2020) compare as one.
 */
function withoutRunTimes(view: WarehouseView): WarehouseView {
  const out: Record<string, string[]> = {};
  for (const [relation, rows] of Object.entries(view)) {
    out[relation] = rows
      .map((row) => {
        const pairs = (JSON.parse(row) as Array<[string, unknown]>).filter(([k]) => k !== 'dbt_scd_id');
        return JSON.stringify(pairs.map(([k, v]) => [k, typeof v === 'string' && /^20(2[1-9]|[3-9]\d)-/.test(v) ? '<run time>' : v]));
      })
      .sort();
  }
  return out;
}
