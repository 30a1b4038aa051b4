import { crashSweep, reportSweep, type SweepScenario } from './crash-sweep.js';
import { runKiln, writeProject } from './kiln-cli.js';

/** Steps shared by the materialization sweeps (tests/sweeps/crash-point-*.test.ts). */

export const T1 = ['--threads', '1'];
export const vars = (v: Record<string, unknown>): string[] => ['--vars', JSON.stringify(v)];

/** Runs kiln in `dir` and throws with its output unless it exits 0. */
export async function kilnOk(dir: string, args: readonly string[], env?: Readonly<Record<string, string>>): Promise<void> {
  const r = await runKiln(dir, args, env ? { env } : {});
  if (r.code !== 0) throw new Error(`kiln ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
}

/** Sweeps `scenario`, prints its number of crash points, and expects no failure and at least `minPoints`. */
export async function sweepReported(name: string, scenario: SweepScenario, minPoints: number): Promise<void> {
  reportSweep(name, await crashSweep(scenario), minPoints);
}

/**
 * An incremental project (tests/helpers/incremental-project.ts) after its first build of 20 source
 * rows, with 30 source rows of a new version arrived since (the `src` table rebuilt).
 */
export async function incrementalPrepared(files: Record<string, string>, args: readonly string[] = [], env?: Readonly<Record<string, string>>): Promise<string> {
  const dir = writeProject(files);
  await kilnOk(dir, ['run', ...args], env);
  await kilnOk(dir, ['run', '--select', 'src', ...vars({ n: 30, ver: 2 }), ...args], env);
  return dir;
}
