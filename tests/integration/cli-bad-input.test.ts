import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/free-port.js';
import { queryWarehouse } from '../helpers/warehouse.js';
import { allOutput, projectYml, removeProjects, runKiln, STACK_FRAME, writeProject, type KilnResult, type ProjectFiles } from '../helpers/kiln-cli.js';

/**
 * Every "bad input" case of issue 2 through the real CLI: the exit code, one `file:line: message`
 * line (plus a hint), no stack trace, and nothing executed.
 */
afterAll(removeProjects);

const base = (extra: ProjectFiles): ProjectFiles => ({ 'project.yml': projectYml('bad'), 'models/ok.sql': 'SELECT 1 AS id', ...extra });

async function invalid(files: ProjectFiles, args: string[] = ['run']): Promise<{ dir: string; r: KilnResult; lines: string[] }> {
  const dir = writeProject(files);
  const r = await runKiln(dir, args);
  expect(r.code, allOutput(r)).toBe(2);
  expect(allOutput(r)).not.toMatch(STACK_FRAME);
  // nothing was executed: no warehouse opened, no results written
  expect(existsSync(join(dir, '.kiln'))).toBe(false);
  expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
  return { dir, r, lines: r.stderr.trimEnd().split('\n') };
}

describe('bad input exits 2 with file:line and no stack trace', () => {
  it('invalid YAML: file:line:column', async () => {
    const { lines } = await invalid({ 'project.yml': 'name: bad\nvars: { a: 1\nmodels: {}\n' });
    expect(lines[0]).toMatch(/^error: project\.yml:\d+:\d+: invalid YAML: .+$/);
    expect(lines[1]).toBe('  hint: check indentation and that strings containing ":" or "{{" are quoted');
    expect(lines).toHaveLength(2);
  });

  it("a var holding '; DROP TABLE …' is a second statement: exit 2 before anything runs, the table intact", async () => {
    const dir = writeProject({
      'project.yml': projectYml('bad', 'vars:\n  min_id: 0\n'),
      'models/keep.sql': "{{ config(materialized='table') }}\nSELECT 1 AS id",
      'models/filtered.sql': "SELECT id FROM {{ ref('keep') }} WHERE id > {{ var('min_id') }}",
    });
    const first = await runKiln(dir, ['run']);
    expect(first.code, allOutput(first)).toBe(0);
    const r = await runKiln(dir, ['run', '--vars', '{min_id: "0; DROP TABLE analytics.keep"}']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(r.stderr).toMatch(/^error: models\/filtered\.sql: model 'filtered' has a second SQL statement after ';' \(line 1 of its SQL\): DROP TABLE analytics\.keep$/m);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    const rows = await queryWarehouse<{ n: string }>(join(dir, '.kiln/dev'), 'SELECT count() AS n FROM analytics.keep');
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('a YAML alias bomb is invalid YAML naming its file, not an internal error', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const [prev, name] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g']]) levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    const { lines } = await invalid(base({ 'models/schema.yml': `${levels.join('\n')}\nmodels: []\n` }));
    expect(lines[0]).toMatch(/^error: models\/schema\.yml: invalid YAML: .*alias/i);
  });

  it('range() of a billion items is a template error naming the file, not a V8 crash', async () => {
    const { lines } = await invalid(base({ 'models/huge.sql': 'SELECT 1 AS id\n{% for i in range(1000000000) %}{% endfor %}' }));
    expect(lines[0]).toMatch(/^error: models\/huge\.sql:2: range\(\) of 1000000000 items is more than kiln renders/);
  });

  it('a model that refs itself is a cycle naming the model, before anything runs', async () => {
    const { lines } = await invalid(base({ 'models/loop.sql': "SELECT *\nFROM {{ ref('loop') }}" }));
    expect(lines[0]).toBe("error: models/loop.sql:2: model 'loop' refs itself");
  });

  it('invalid YAML in a properties file names that file', async () => {
    const { lines } = await invalid(base({ 'models/schema.yml': 'models:\n  - name: ok\n    columns: [a, b\n' }));
    expect(lines[0]).toMatch(/^error: models\/schema\.yml:\d+:\d+: invalid YAML: /);
  });

  it('unknown ref: file:line and the closest model', async () => {
    const { lines } = await invalid(base({ 'models/b.sql': "SELECT *\nFROM {{ ref('okk') }}" }));
    expect(lines).toEqual(["error: models/b.sql:2: unknown ref 'okk'", "  hint: did you mean 'ok'?"]);
  });

  it('unknown source: file:line and the closest source', async () => {
    const { lines } = await invalid(
      base({
        'sources.yml': 'sources:\n  - name: app\n    tables: [{ name: users }]\n',
        'models/b.sql': "SELECT 1\n\n\nFROM {{ source('app', 'user') }}",
      }),
    );
    expect(lines).toEqual(["error: models/b.sql:4: unknown source 'app.user'", "  hint: did you mean 'app.users'?"]);
  });

  it('unknown var: file:line and how to define it', async () => {
    const { lines } = await invalid(base({ 'models/b.sql': "SELECT 1\nWHERE x > {{ var('days') }}" }));
    expect(lines).toEqual(["error: models/b.sql:2: var 'days' is not defined", "  hint: define it under vars: in project.yml or pass --vars '{days: ...}'"]);
  });

  it('unknown var used in a YAML string names the YAML file', async () => {
    const { lines } = await invalid(
      base({ 'sources.yml': "sources:\n  - name: ex\n    tables:\n      - name: t\n        path: \"{{ var('data_root') }}/t.csv\"\n" }),
    );
    expect(lines[0]).toBe("error: sources.yml:4: var 'data_root' is not defined");
  });

  it('template syntax error: file:line', async () => {
    const { lines } = await invalid(base({ 'models/b.sql': 'SELECT 1\n{% if %}\n{% endif %}' }));
    expect(lines[0]).toMatch(/^error: models\/b\.sql:2: template error: .+$/);
  });

  it('a cycle prints the whole path', async () => {
    const { lines } = await invalid(
      base({
        'models/a.sql': "SELECT * FROM {{ ref('c') }}",
        'models/b.sql': "SELECT * FROM {{ ref('a') }}",
        'models/c.sql': "SELECT * FROM {{ ref('b') }}",
      }),
    );
    expect(lines).toEqual(['error: dependency cycle: models/a.sql → models/b.sql → models/c.sql → models/a.sql', '  hint: remove one of these ref() calls to break it']);
  });

  it('two models with one name', async () => {
    const { lines } = await invalid(base({ 'models/x/ok.sql': 'SELECT 2' }));
    expect(lines).toEqual([
      "error: models/x/ok.sql: two nodes are named 'ok': models/ok.sql and models/x/ok.sql",
      '  hint: node names are file names and must be unique across models and seeds; rename one model',
    ]);
  });

  it('several broken models are all reported, each on its own line', async () => {
    const { lines } = await invalid(base({ 'models/a.sql': "SELECT {{ ref('nope') }}", 'models/b.sql': "SELECT {{ var('nope') }}" }), ['compile']);
    expect(lines.filter((l) => l.startsWith('error: '))).toEqual([
      "error: models/b.sql:1: var 'nope' is not defined",
      "error: models/a.sql:1: unknown ref 'nope'",
    ]);
  });

  it('an unknown target, invalid --vars and an unknown selector method are invalid invocations', async () => {
    expect((await invalid(base({}), ['run', '--target', 'prd'])).lines[0]).toMatch(/^error: project\.yml:\d+: unknown target 'prd'$/);
    expect((await invalid(base({}), ['run', '--vars', '{a: [1'])).lines[0]).toMatch(/^error: --vars is not valid YAML\/JSON: /);
    expect((await invalid(base({}), ['run', '--select', 'colour:red'])).lines[0]).toBe("error: invalid selector 'colour:red': unknown selector method 'colour'");
  });

  it('--debug adds the stack trace the normal output leaves out', async () => {
    const dir = writeProject(base({ 'models/b.sql': "SELECT {{ ref('okk') }}" }));
    const r = await runKiln(dir, ['compile', '--debug']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(STACK_FRAME);
  });
});

describe('warnings do not fail the command', () => {
  it('an unknown project key warns with the closest key and exits 0', async () => {
    const dir = writeProject({ 'project.yml': `${projectYml('bad')}modles: { +materialized: table }\n`, 'models/ok.sql': 'SELECT 1' });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("warning: project.yml:5: unknown project key 'modles' (ignored) (did you mean 'models'?)\n");
  });

  it('an unknown config key warns with the closest key', async () => {
    const dir = writeProject({ 'project.yml': projectYml('bad'), 'models/ok.sql': "{{ config(materialised='table') }}SELECT 1" });
    const r = await runKiln(dir, ['compile']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("warning: models/ok.sql: unknown config key 'materialised' (did you mean 'materialized'?)\n");
  });
});

describe('SQL ClickHouse rejects', () => {
  it('exits 1 naming the model file and line, ClickHouse message and the compiled SQL path', async () => {
    const dir = writeProject(base({ 'models/broken.sql': "{{ config(materialized='view') }}\nSELECT id, nosuchfn(id) AS y FROM {{ ref('ok') }}" }));
    const r = await runKiln(dir, ['run', '--no-validate']);
    expect(r.code).toBe(1);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    expect(r.stdout).toMatch(/ERROR +view model analytics\.broken/);
    // The unknown function on the model's own line and column (line 2, col 12), not the CREATE VIEW's.
    expect(r.stdout).toMatch(/^ {6}models\/broken\.sql:2:12: .*nosuchfn.*$/m);
    expect(r.stdout).toMatch(/^ {8}compiled SQL: target\/compiled\/models\/broken\.sql$/m);
    expect(readFileSync(join(dir, 'target/compiled/models/broken.sql'), 'utf8')).toContain('nosuchfn(id)');
    expect(r.stdout).toMatch(/OK +view model analytics\.ok/);
  });
});

describe('unreachable server and secrets', () => {
  const SECRET = 'Sup3r-Secret-Pw';
  let port: number;
  beforeAll(async () => {
    port = await freePort(); // nothing listens there once freePort returns
  });

  const serverProject = (url: string) =>
    writeProject({
      'project.yml': `name: srv
target: prod
targets:
  dev: { engine: embedded, path: .kiln/dev }
  prod:
    engine: clickhouse
    url: "${url}"
    username: "{{ env_var('CH_USER', 'kiln') }}"
    password: "{{ env_var('CH_PASSWORD') }}"
`,
      'models/ok.sql': 'SELECT 1 AS id',
      'sources.yml': "sources:\n  - name: app\n    loader: mysql\n    connection: { host: db, password: \"{{ env_var('CH_PASSWORD') }}\" }\n    tables: [{ name: users }]\n",
    });

  it('exits 2 naming the target and URL, never the password', async () => {
    const dir = serverProject(`http://127.0.0.1:${port}`);
    const r = await runKiln(dir, ['run'], { env: { CH_PASSWORD: SECRET } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: target 'prod': cannot reach ClickHouse at http://127.0.0.1:${port}: ECONNREFUSED`);
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    expect(allOutput(r)).not.toContain(SECRET);
    expect(existsSync(join(dir, 'target/run_results.json'))).toBe(false);
    expect(filesContaining(join(dir, 'target'), SECRET)).toEqual([]);
  });

  it('a password inside the URL is stripped from the message too', async () => {
    const dir = serverProject(`http://kiln:{{ env_var('CH_PASSWORD') }}@127.0.0.1:${port}`);
    const r = await runKiln(dir, ['run', '--json'], { env: { CH_PASSWORD: SECRET } });
    expect(r.code).toBe(2);
    expect(allOutput(r)).not.toContain(SECRET);
    const error = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(error).toEqual({ type: 'error', message: expect.stringContaining(`target 'prod': cannot reach ClickHouse at http://127.0.0.1:${port}`) });
    expect(filesContaining(join(dir, 'target'), SECRET)).toEqual([]);
  });

  it('a URL the client rejects is an invalid target (exit 2), secret redacted', async () => {
    const dir = serverProject(`http://127.0.0.1:${port}/?password={{ env_var('CH_PASSWORD') }}`);
    const r = await runKiln(dir, ['run'], { env: { CH_PASSWORD: SECRET } });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(`error: invalid ClickHouse url http://127.0.0.1:${port}/?password=***: Unknown URL parameters: password`);
    expect(allOutput(r)).not.toContain(SECRET);
  });

  it('compile with a secret in the environment keeps it out of every artifact', async () => {
    const dir = serverProject(`http://127.0.0.1:${port}`);
    const r = await runKiln(dir, ['compile'], { env: { CH_PASSWORD: SECRET } });
    expect(r.code).toBe(0);
    expect(allOutput(r)).not.toContain(SECRET);
    expect(filesContaining(join(dir, 'target'), SECRET)).toEqual([]);
    expect(readFileSync(join(dir, 'target/manifest.json'), 'utf8')).toContain('"password":"***"');
  });
});

/** Files under `dir` whose text contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && readFileSync(f, 'utf8').includes(needle));
}
