import { afterAll, describe, expect, it } from 'vitest';
import { crashSweep } from '../helpers/crash-sweep.js';
import { projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';

afterAll(removeProjects);

const seedProject = () =>
  writeProject({
    'project.yml': projectYml('sweep'),
    'seeds/countries.csv': 'code,name\nDE,Germany\nFR,France\nPL,Poland\n',
  });

describe('KILN_CRASH_AFTER', () => {
  it('kills the process right after the Nth statement, printing nothing more', async () => {
    const dir = seedProject();
    const r = await runKiln(dir, ['seed'], { env: { KILN_CRASH_AFTER: '2' } });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).not.toMatch(/OK|Done|error/i);
  });

  it('lets a command with fewer statements finish normally', async () => {
    const dir = seedProject();
    const r = await runKiln(dir, ['seed'], { env: { KILN_CRASH_AFTER: '100000' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/countries/);
  });

  it('sweeps every crash point of kiln seed: each rerun ends with the clean run\'s warehouse', async () => {
    const sweep = await crashSweep({ prepare: async () => seedProject(), args: ['seed'] });
    expect(sweep.failures).toEqual([]);
    expect(sweep.points).toBeGreaterThan(3);
    console.log(`kiln seed: ${sweep.points} crash points`);
  });
});
