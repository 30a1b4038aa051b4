import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectYml, removeProjects, runKiln, runResults, writeFiles, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const PROJECT = {
  'project.yml': projectYml('st'),
  'macros/money.sql': '{% macro cents(x) %}({{ x }} * 100){% endmacro %}\n',
  'seeds/rates.csv': 'code,rate\nEUR,1\n',
  'models/a.sql': "{{ config(materialized='table') }}\nSELECT 1 AS x\n",
  'models/b.sql': "SELECT x FROM {{ ref('a') }}\n",
  'models/c.sql': "SELECT x FROM {{ ref('b') }}\n",
  'models/d.sql': "SELECT {{ cents(2) }} AS y\n",
  'models/e.sql': "SELECT y FROM {{ ref('d') }} {% if var('break_e', false) %}WHERE no_such_column{% endif %}\n",
  'models/f.sql': "SELECT y FROM {{ ref('e') }}\n",
  'models/props.yml': 'models:\n  - name: d\n    config: { tags: [money] }\n',
};

async function names(dir: string, select: string, extra: string[] = []): Promise<string[]> {
  const r = await runKiln(dir, ['ls', '--select', select, ...extra]);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** Saves the current manifest as the "production" state to compare against. */
async function saveState(dir: string): Promise<string> {
  expect((await runKiln(dir, ['compile'])).code).toBe(0);
  const state = join(dir, 'prod-state');
  mkdirSync(state, { recursive: true });
  cpSync(join(dir, 'target/manifest.json'), join(state, 'manifest.json'));
  return state;
}

describe('state: selection', () => {
  it('state:modified finds body, config and macro changes; state:new finds new nodes; + works on both sides', async () => {
    // A source and its dependant: an unchanged source must not count as modified.
    const dir = writeProject({
      ...PROJECT,
      'sources.yml': 'sources:\n  - name: app\n    tables:\n      - name: users\n',
      'models/s.sql': "SELECT * FROM {{ source('app', 'users') }}\n",
    });
    const state = await saveState(dir);
    const s = ['--state', state];
    expect(await names(dir, 'state:modified', s)).toEqual([]);

    writeFiles(dir, { 'models/b.sql': "SELECT x, 2 AS z FROM {{ ref('a') }}\n" });
    expect(await names(dir, 'state:modified', s)).toEqual(['b']);
    expect(await names(dir, 'state:modified+', s)).toEqual(['b', 'c']);
    expect(await names(dir, '+state:modified', s)).toEqual(['a', 'b']);

    writeFiles(dir, { 'models/props.yml': 'models:\n  - name: d\n    config: { tags: [finance] }\n' });
    expect(await names(dir, 'state:modified', s)).toEqual(['b', 'd']);
    expect(await names(dir, 'state:modified.configs', s)).toEqual(['d']);

    writeFiles(dir, { 'macros/money.sql': '{% macro cents(x) %}({{ x }} * 1000){% endmacro %}\n' });
    expect(await names(dir, 'state:modified.macros', s)).toEqual(['d']);

    writeFiles(dir, { 'models/g.sql': "SELECT x FROM {{ ref('c') }}\n" });
    expect(await names(dir, 'state:new', s)).toEqual(['g']);
    expect(await names(dir, 'state:modified+', s)).toEqual(['b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('slim CI: run --select state:modified+ builds only what the change touches and what is downstream', async () => {
    const dir = writeProject(PROJECT);
    expect((await runKiln(dir, ['build'])).code).toBe(0);
    const state = await saveState(dir);
    writeFiles(dir, { 'models/e.sql': "SELECT y + 1 AS y FROM {{ ref('d') }}\n" });
    const r = await runKiln(dir, ['run', '--select', 'state:modified+', '--state', state]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect([...runResults(dir).keys()].sort()).toEqual(['model.st.e', 'model.st.f']);
  });

  it('state:modified without --state is an invalid invocation (exit 2)', async () => {
    const dir = writeProject(PROJECT);
    const r = await runKiln(dir, ['ls', '--select', 'state:modified']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --state/);
  });
});

describe('result: selection and kiln retry', () => {
  it('selects errored and skipped nodes of the last run, and retry reruns exactly those with the same command', async () => {
    const dir = writeProject(PROJECT);
    // --no-validate: the error must happen at run time, for retry to find it in run_results.json.
    const failed = await runKiln(dir, ['run', '--no-validate', '--vars', '{break_e: true}']);
    expect(failed.code).toBe(1);
    const first = runResults(dir);
    expect(first.get('model.st.e')!.status).toBe('error');
    expect(first.get('model.st.f')!.status).toBe('skipped');
    expect(await names(dir, 'result:error')).toEqual(['e']);
    expect(await names(dir, 'result:skipped')).toEqual(['f']);
    expect(await names(dir, 'result:error+')).toEqual(['e', 'f']);
    // ls does not write run_results.json, so the selection above still reads the failed run.

    const again = await runKiln(dir, ['retry', '--no-validate', '--vars', '{break_e: true}']);
    expect(again.code).toBe(1);
    expect([...runResults(dir).keys()].sort()).toEqual(['model.st.e', 'model.st.f']);

    const fixed = await runKiln(dir, ['retry']);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(fixed.stdout).toMatch(/Retrying 2 nodes that did not succeed in the last run/);
    const results = runResults(dir);
    expect([...results.keys()].sort()).toEqual(['model.st.e', 'model.st.f']);
    expect([...results.values()].map((r) => r.status)).toEqual(['success', 'success']);

    const nothing = await runKiln(dir, ['retry']);
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toMatch(/Nothing to retry/);
  });

  it('retry repeats a build as a build (seeds and models)', async () => {
    const dir = writeProject({ ...PROJECT, 'models/h.sql': "SELECT code FROM {{ ref('rates') }} {% if var('break_h', false) %}WHERE nope{% endif %}\n" });
    expect((await runKiln(dir, ['build', '--no-validate', '--vars', '{break_h: true}'])).code).toBe(1);
    const r = await runKiln(dir, ['retry']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/last build/);
    expect([...runResults(dir).keys()]).toEqual(['model.st.h']);
  });

  it('retry without a previous run is an invalid invocation', async () => {
    const dir = writeProject(PROJECT);
    const r = await runKiln(dir, ['retry']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nothing to retry: no target\/run_results\.json/);
  });
});
