import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, readJson, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

/**
 * `kiln compile` of a project whose inputs did not change keeps target/ (compile-inputs.ts):
 * the same manifest and compiled files, a new invocation id; any change to what the compile
 * reads compiles afresh.
 */
afterAll(removeProjects);

const UNCHANGED = /Compiled \d+ models.* \(unchanged\)$/m;

function project(extra: Record<string, string> = {}): string {
  return writeProject({
    'project.yml': projectYml('shop', 'vars:\n  min_id: 1\n'),
    'models/stg.sql': "SELECT number AS id, '{{ env_var(\"SHOP_REGION\", \"eu\") }}' AS region FROM numbers(3)",
    'models/fct.sql': "{{ config(materialized='table') }}SELECT * FROM {{ ref('stg') }} WHERE id >= {{ var('min_id') }}",
    'models/schema.yml': 'models:\n  - name: fct\n    columns:\n      - name: id\n        data_tests: [not_null]\n',
    ...extra,
  });
}

const manifestBody = (dir: string) => {
  const m = readJson(dir, 'target/manifest.json');
  const { generated_at, invocation_id, ...metadata } = m.metadata;
  return { stamp: { generated_at, invocation_id }, rest: JSON.stringify({ ...m, metadata }) };
};

async function compile(dir: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = await runKiln(dir, ['compile', ...args], { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('kiln compile of an unchanged project', () => {
  it('keeps the manifest and compiled files, with a new invocation id', async () => {
    const dir = project();
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    const first = manifestBody(dir);
    const compiled = readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8');

    expect(await compile(dir)).toMatch(UNCHANGED);
    const second = manifestBody(dir);
    expect(second.rest).toBe(first.rest);
    expect(second.stamp.invocation_id).not.toBe(first.stamp.invocation_id);
    expect(readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8')).toBe(compiled);
  });

  it('compiles afresh after an edit, a new file, a removed file, or another var', async () => {
    const dir = project();
    await compile(dir);
    appendFileSync(join(dir, 'models/stg.sql'), ' -- edited');
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/stg.sql'), 'utf8')).toContain('-- edited');
    expect(await compile(dir)).toMatch(UNCHANGED);

    writeFileSync(join(dir, 'models/extra.sql'), 'SELECT 1 AS x');
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readJson(dir, 'target/manifest.json').nodes['model.shop.extra']).toBeDefined();

    rmSync(join(dir, 'models/extra.sql'));
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readJson(dir, 'target/manifest.json').nodes['model.shop.extra']).toBeUndefined();

    writeFileSync(join(dir, 'models/schema.yml'), 'models:\n  - name: fct\n    columns:\n      - name: id\n        data_tests: [not_null, unique]\n');
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(Object.keys(readJson(dir, 'target/manifest.json').nodes).some((id) => id.startsWith('test.shop.unique_fct_id'))).toBe(true);

    expect(await compile(dir, ['--vars', '{min_id: 2}'])).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8')).toContain('id >= 2');
    expect(await compile(dir, ['--vars', '{min_id: 2}'])).toMatch(UNCHANGED);
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8')).toContain('id >= 1');
  });

  it('compiles afresh when an env var a template reads changes, not for one it does not read', async () => {
    const dir = project();
    await compile(dir, [], { SHOP_REGION: 'us' });
    expect(await compile(dir, [], { SHOP_REGION: 'us', UNRELATED_VAR: 'x' })).toMatch(UNCHANGED);
    expect(await compile(dir, [], { SHOP_REGION: 'ap' })).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/stg.sql'), 'utf8')).toContain("'ap' AS region");
    // The record keeps a keyed digest of each value read, never the value (it may be a secret),
    // nor a plain digest that could be guessed from target/ alone.
    const record = readFileSync(join(dir, 'target/.cache/compile-inputs.json'), 'utf8');
    expect(record).not.toContain("'ap'");
    for (const algorithm of ['sha1', 'sha256', 'md5']) {
      for (const encoding of ['hex', 'base64url', 'base64'] as const) expect(record).not.toContain(createHash(algorithm).update('ap').digest(encoding));
    }
    expect(JSON.parse(record).env.SHOP_REGION).toMatch(/^[\w-]{20,}$/);
  });

  it('never reuses a compile whose templates read the time or the invocation id', async () => {
    const dir = project({ 'models/stamped.sql': "SELECT '{{ run_started_at }}' AS built_at" });
    await compile(dir);
    expect(await compile(dir)).not.toMatch(UNCHANGED);
  });

  it('compiles afresh when target/ no longer holds what it wrote', async () => {
    const dir = project();
    await compile(dir);
    rmSync(join(dir, 'target/compiled/models/fct.sql'));
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8')).toContain('id >= 1');

    const manifest = join(dir, 'target/manifest.json');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('"model.shop.fct"', '"model.shop.fct_edited"'));
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readJson(dir, 'target/manifest.json').nodes['model.shop.fct']).toBeDefined();
  });

  it('is reused after a build compiled the same project, and not after a build with other vars', async () => {
    const dir = project();
    const built = await runKiln(dir, ['build']);
    expect(built.code).toBe(0);
    const afterBuild = manifestBody(dir);
    expect(await compile(dir)).toMatch(UNCHANGED);
    expect(manifestBody(dir).rest).toBe(afterBuild.rest);

    expect((await runKiln(dir, ['run', '--vars', '{min_id: 2}'])).code).toBe(0);
    expect(await compile(dir)).not.toMatch(UNCHANGED);
    expect(readFileSync(join(dir, 'target/compiled/models/fct.sql'), 'utf8')).toContain('id >= 1');
  });

  it('tells the same warnings again when it reuses a compile', async () => {
    const dir = project({ 'project.yml': projectYml('shop', 'vars:\n  min_id: 1\nmodel-pathz: [x]\n') });
    const first = await runKiln(dir, ['compile']);
    const again = await runKiln(dir, ['compile']);
    expect(again.stdout).toMatch(UNCHANGED);
    expect(first.stderr).toMatch(/model-pathz/);
    expect(again.stderr).toBe(first.stderr);
  });
});
