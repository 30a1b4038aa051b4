import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, runResults, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

describe('target/run/: the statements each model sent; SQL errors on the model\'s own line', () => {
  it('holds every statement in order, the failing one included, and an SQL error names the file', async () => {
    const dir = writeProject({
      'project.yml': projectYml('rs'),
      'models/good.sql': "{{ config(materialized='table', order_by='id') }}\nSELECT 1 AS id",
      'models/bad.sql': "{{ config(materialized='table') }}\nSELECT id,\n  no_such_column\nFROM {{ ref('good') }}",
    });
    // --no-validate: what a run sends and reports when ClickHouse rejects a statement at run time.
    const r = await runKiln(dir, ['run', '--no-validate']);
    expect(r.code).toBe(1);
    const good = readFileSync(join(dir, 'target/run/models/good.sql'), 'utf8');
    expect(good).toMatch(/CREATE TABLE [^\n]*\n?[\s\S]*ORDER BY[\s\S]*SELECT 1 AS id/);
    expect(good.trim().endsWith(';')).toBe(true);

    const bad = readFileSync(join(dir, 'target/run/models/bad.sql'), 'utf8');
    expect(bad).toContain('no_such_column');
    const message = runResults(dir).get('model.rs.bad')!.message!;
    // On the model's own line and column, not line 6 of the CREATE TABLE around it.
    expect(message).toMatch(/^models\/bad\.sql:3:3: .*no_such_column/);
    expect(message).toContain('compiled SQL: target/compiled/models/bad.sql');
    expect(message).toContain('statements sent: target/run/models/bad.sql');
  });
});
