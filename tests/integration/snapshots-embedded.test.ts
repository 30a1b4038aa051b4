import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, readJson, removeProjects, runKiln, STACK_FRAME, writeProject } from '../helpers/kiln-cli.js';
import { SNAPSHOT_FILES, snapshotScenario } from '../helpers/snapshot-project.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** Snapshots through the real CLI on the embedded engine. */
afterAll(removeProjects);

describe('snapshots on the embedded engine', () => {
  it('record changes, hard deletes and returning rows in each strategy, as dbt does', async () => {
    const dir = writeProject({ 'project.yml': projectYml('snap'), ...SNAPSHOT_FILES });
    const read = (sql: string) => queryWarehouse(join(dir, '.kiln/dev'), sql);
    await snapshotScenario(dir, 'analytics', (args) => runKiln(dir, args), read);

    const manifest = readJson<{ nodes: Record<string, { resource_type: string; depends_on: { nodes: string[] }; relation_name: string }> }>(dir, 'target/manifest.json');
    expect(manifest.nodes['snapshot.snap.users_ts']).toMatchObject({ resource_type: 'snapshot', relation_name: '`analytics`.`users_ts`', depends_on: { nodes: ['seed.snap.users'] } });
    expect(manifest.nodes['snapshot.snap.users_yaml']?.resource_type).toBe('snapshot');
    expect(manifest.nodes['model.snap.current_roles']?.depends_on.nodes).toEqual(['snapshot.snap.users_ts']);
    const results = readJson<{ results: Array<{ unique_id: string; status: string }> }>(dir, 'target/run_results.json');
    expect(results.results.map((r) => `${r.unique_id}:${r.status}`).sort()).toEqual(['snapshot.snap.users_check:success', 'snapshot.snap.users_ts:success', 'snapshot.snap.users_yaml:success']);

    const ls = await runKiln(dir, ['ls', '--resource-type', 'snapshot']);
    expect(ls.stdout.trim().split('\n').sort()).toEqual(['snapshot:users_check', 'snapshot:users_ts', 'snapshot:users_yaml']);
    const selected = await runKiln(dir, ['ls', '--select', 'users_ts+']);
    expect(selected.stdout.trim().split('\n')).toEqual(['snapshot:users_ts', 'current_roles']);
  }, 240_000);

  it('a snapshot without a strategy is exit 2 at its config line, before anything runs', async () => {
    const dir = writeProject({
      'project.yml': projectYml('snap'),
      'seeds/users.csv': 'id,role\n1,user\n',
      'snapshots/bad.sql': `{% snapshot bad %}\n{{ config(unique_key='id', stratgy='timestamp') }}\nselect * from {{ ref('users') }}\n{% endsnapshot %}\n`,
    });
    const r = await runKiln(dir, ['build']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/snapshots\/bad\.sql(:\d+)?: a snapshot needs a strategy/);
    expect(r.stderr).toMatch(/hint: config\(strategy='timestamp'/);
    expect(r.stderr).not.toMatch(STACK_FRAME);

    const unclosed = writeProject({ 'project.yml': projectYml('snap'), 'snapshots/open.sql': `\n{% snapshot open %}\nselect 1 as id\n` });
    const u = await runKiln(unclosed, ['compile']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/snapshots\/open\.sql:2: snapshot 'open' has no \{% endsnapshot %\}/);
  }, 120_000);
});
