import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { KILN_BIN, projectYml, removeProjects, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

describe('a reader that closes early (kiln ls | head)', () => {
  it('ends kiln quietly: exit 0, no EPIPE stack trace', async () => {
    const files: Record<string, string> = { 'project.yml': projectYml('pipes') };
    for (let i = 0; i < 200; i++) files[`models/m_${i}.sql`] = `SELECT ${i} AS id`;
    const dir = writeProject(files);
    const child = spawn(process.execPath, [KILN_BIN, 'ls', '--output', 'json', '--project-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The read end closes before kiln writes a line, as `head -0` would: every write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
