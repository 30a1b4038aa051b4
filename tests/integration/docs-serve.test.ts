import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/** `kiln docs serve`: the real CLI serving on localhost and regenerating when the manifest changes. */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kilnBin = join(repo, 'bin', 'kiln.js');

describe('kiln docs serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-docs-serve-'));
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  };

  it('serves the site, regenerates after a compile, and lets a build use the warehouse meanwhile', async () => {
    write('project.yml', 'name: served\nversion: 1\ntarget: dev\ntargets:\n  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }\n');
    write('models/first_model.sql', 'SELECT 1 AS id\n');
    server = spawn(process.execPath, [kilnBin, 'docs', 'serve', '--port', '0'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    server.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    server.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    const waitFor = async (re: RegExp, ms = 60_000) => {
      const t0 = Date.now();
      while (!re.test(out)) {
        if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${re}; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return re.exec(out)!;
    };
    const url = (await waitFor(/Serving docs at (http:\/\/127\.0\.0\.1:\d+\/)/))[1]!;
    const page = await (await fetch(url)).text();
    expect(page.includes('<title>served · kiln docs</title>') && page.includes('first_model')).toBe(true);
    const v1 = ((await (await fetch(`${url}__kiln/version`)).json()) as { version: number }).version;
    expect((await fetch(`${url}manifest.json`)).status).toBe(200);

    write('models/second_model.sql', "SELECT id FROM {{ ref('first_model') }}\n");
    const compile = spawnSync(process.execPath, [kilnBin, 'compile'], { cwd: dir, encoding: 'utf8' });
    expect(compile.status, compile.stdout + compile.stderr).toBe(0);
    await waitFor(/Docs regenerated \(2 nodes\)/);
    expect((await (await fetch(url)).text()).includes('second_model')).toBe(true);
    const v2 = ((await (await fetch(`${url}__kiln/version`)).json()) as { version: number }).version;
    expect(v2).toBeGreaterThan(v1);

    // The server does not hold the embedded warehouse: a build in another process runs.
    const build = spawnSync(process.execPath, [kilnBin, 'build'], { cwd: dir, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
    // run_results.json lands after the build closed the warehouse; the page then shows its statuses.
    const t0 = Date.now();
    let succeeded = false;
    while (!succeeded && Date.now() - t0 < 30_000) {
      succeeded = (await (await fetch(url)).text()).includes('"status":"success"');
      if (!succeeded) await new Promise((r) => setTimeout(r, 200));
    }
    expect(succeeded, out).toBe(true);
  });
});
