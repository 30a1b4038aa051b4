import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

const run = promisify(execFile);

/**
 * The path a new user takes, as the README tells it: the packed package installed into an empty
 * folder, then `npx kiln init demo`, `cd demo`, `npx kiln build`. Dependencies come from npm's
 * cache (filled by `npm ci`) or the registry.
 */
const work = mkdtempSync(join(tmpdir(), 'kiln-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sh = async (cmd: string, args: string[], cwd: string) => {
  // npx must not find this checkout's kiln: a clean environment apart from PATH and HOME.
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm') };
  return run(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
};

describe('installing kiln from its package', () => {
  it('npm pack, npm install the tarball, npx kiln init demo, npx kiln build', async () => {
    // dist/ is fresh (the integration suite checks it), so packing needs no build of its own.
    const packed = await sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT);
    const [{ filename, files }] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const paths = files.map((f) => f.path);
    expect(paths).toContain('bin/kiln.js');
    expect(paths).toContain('dist/cli/kiln.bundle.js');
    expect(paths.some((p) => p.startsWith('tests/') || p.startsWith('src/') || p.startsWith('data/'))).toBe(false);

    const app = join(work, 'app');
    await sh('mkdir', ['-p', app], work);
    await sh('npm', ['init', '-y'], app);
    await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, filename)], app);

    const init = await sh('npx', ['--no-install', 'kiln', 'init', 'demo'], app);
    expect(init.stdout).toContain(`Next: cd ${join(app, 'demo')} && npx kiln build`);
    const build = await sh('npx', ['--no-install', 'kiln', 'build'], join(app, 'demo'));
    expect(build.stdout).toMatch(/^Finished \d+ nodes in [\d.]+s: \d+ ok$/m);
    const rows = await queryWarehouse<{ n: number | string }>(join(app, 'demo', '.kiln/dev'), 'SELECT count() AS n FROM analytics.dim_country');
    expect(rows.map((r) => Number(r.n))).toEqual([3]);
  }, 600_000);

  it('kiln init outside an installed kiln says how to install it', async () => {
    // The temp folder has no node_modules/kiln-clickhouse above it.
    const init = await run(process.execPath, [join(REPO_ROOT, 'bin/kiln.js'), 'init', 'shop'], { cwd: work });
    expect(init.stdout).toContain(`Next: cd ${join(work, 'shop')} && npm install --save-dev kiln-clickhouse && npx kiln build`);
  });
});
