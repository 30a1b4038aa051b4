import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allOutput, REPO_ROOT, runKiln } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/**
 * The reference project's snapshots (snapshots/app_history.sql) across two builds: between them
 * the app database changes a user's role and a title's hype, and the snapshots must record each
 * change as a closed version and a new one; assert_snapshot_changes_are_versioned checks that, and
 * fails on a history where a user has two current versions.
 */
const dir = mkdtempSync(join(tmpdir(), 'kiln-ref-snapshots-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reference project snapshots', () => {
  it('record a role change and a hype change between two builds, and the versioning test can fail', async () => {
    for (const f of ['project.yml', 'sources.yml', 'models', 'seeds', 'macros', 'snapshots', 'data', 'tests/data']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      cpSync(join(REPO_ROOT, f), join(dir, f), { recursive: true });
    }
    const read = (sql: string) => queryWarehouse(join(dir, '.kiln/dev'), sql);
    const first = await runKiln(dir, ['build']);
    expect(first.code, allOutput(first)).toBe(0);
    expect(await read(`SELECT role FROM analytics.snap_users WHERE user_id = 1`)).toEqual([{ role: 'USER' }]);

    // The app changes: user 1 becomes an admin, title 1's hype goes from 40.72 to 88.5.
    const dump = join(dir, 'data/mysql/app.sql');
    const before = readFileSync(dump, 'utf8');
    const after = before.replace("(1,'sofia.tanaka1@example.com','\tUser  ',", "(1,'sofia.tanaka1@example.com','admin',").replace(`'[\\"Apple TV+\\"]',40.72,`, `'[\\"Apple TV+\\"]',88.5,`);
    expect(after).toContain("'sofia.tanaka1@example.com','admin',");
    expect(after).toContain(`'[\\"Apple TV+\\"]',88.5,`);
    writeFileSync(dump, after);
    const second = await runKiln(dir, ['build', '--select', 'source:app snap_users snap_content']);
    expect(second.code, allOutput(second)).toBe(0);
    expect(second.stdout).toMatch(/PASS +test assert_snapshot_changes_are_versioned/);

    const versions = (table: string, key: string, column: string) =>
      read(`SELECT toString(${column}) AS v, dbt_valid_to IS NULL AS current, dbt_valid_to = (SELECT max(dbt_valid_from) FROM analytics.${table} WHERE ${key} = 1) AS closed_when_next_starts FROM analytics.${table} WHERE ${key} = 1 ORDER BY dbt_valid_from`);
    expect(await versions('snap_users', 'user_id', 'role')).toEqual([
      { v: 'USER', current: 0, closed_when_next_starts: 1 },
      { v: 'ADMIN', current: 1, closed_when_next_starts: null },
    ]);
    expect(await versions('snap_content', 'content_id', 'hype_index')).toEqual([
      { v: '40.72', current: 0, closed_when_next_starts: 1 },
      { v: '88.5', current: 1, closed_when_next_starts: null },
    ]);

    // A history where user 2 has two current versions: the test must say so.
    await read(`INSERT INTO analytics.snap_users SELECT user_id, role, is_active, 'tampered', dbt_updated_at, dbt_valid_from, dbt_valid_to FROM analytics.snap_users WHERE user_id = 2`);
    const tampered = await runKiln(dir, ['test', '--select', 'assert_snapshot_changes_are_versioned']);
    expect(tampered.code).toBe(1);
    expect(allOutput(tampered)).toMatch(/FAIL +test assert_snapshot_changes_are_versioned/);
  }, 300_000);
});
