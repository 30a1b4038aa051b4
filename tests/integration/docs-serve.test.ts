import { afterAll, describe, expect, it } from 'vitest';
import { removeProjects, runKiln, startKiln, writeFiles, writeProject, type RunningKiln } from '../helpers/kiln-cli.js';

/** `kiln docs serve`: the real CLI serving on localhost and regenerating when the manifest changes. */

describe('kiln docs serve', () => {
  const dir = writeProject({}, 'kiln-docs-serve-');
  let server: RunningKiln | undefined;
  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.done;
    removeProjects();
  });
  const write = (file: string, text: string) => writeFiles(dir, { [file]: text });

  it('serves the site, regenerates after a compile, and lets a build use the warehouse meanwhile', async () => {
    write('project.yml', 'name: served\nversion: 1\ntarget: dev\ntargets:\n  dev: { engine: embedded, path: .kiln/dev, database: analytics, raw_database: raw }\n');
    write('models/first_model.sql', 'SELECT 1 AS id\n');
    // Run from the project folder (no --project-dir), as a user would.
    const docs = startKiln(null, ['docs', 'serve', '--port', '0'], { cwd: dir });
    server = docs;
    const serving = /Serving docs at (http:\/\/127\.0\.0\.1:\d+\/)/;
    const url = serving.exec(await docs.waitFor(serving, { stream: 'output' }))![1]!;
    const page = await (await fetch(url)).text();
    expect(page.includes('<title>served · kiln docs</title>') && page.includes('first_model')).toBe(true);
    const v1 = ((await (await fetch(`${url}__kiln/version`)).json()) as { version: number }).version;
    expect((await fetch(`${url}manifest.json`)).status).toBe(200);

    write('models/second_model.sql', "SELECT id FROM {{ ref('first_model') }}\n");
    const compile = await runKiln(null, ['compile'], { cwd: dir });
    expect(compile.code, compile.stdout + compile.stderr).toBe(0);
    await docs.waitFor(/Docs regenerated \(2 nodes\)/, { stream: 'output' });
    expect((await (await fetch(url)).text()).includes('second_model')).toBe(true);
    const v2 = ((await (await fetch(`${url}__kiln/version`)).json()) as { version: number }).version;
    expect(v2).toBeGreaterThan(v1);

    // The server does not hold the embedded warehouse: a build in another process runs.
    const build = await runKiln(null, ['build'], { cwd: dir });
    expect(build.code, build.stdout + build.stderr).toBe(0);
    // run_results.json lands after the build closed the warehouse; the page then shows its statuses.
    const t0 = Date.now();
    let succeeded = false;
    while (!succeeded && Date.now() - t0 < 30_000) {
      succeeded = (await (await fetch(url)).text()).includes('"status":"success"');
      if (!succeeded) await new Promise((r) => setTimeout(r, 200));
    }
    expect(succeeded, docs.output()).toBe(true);
  });
});
