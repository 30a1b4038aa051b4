import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The integration suite runs the real CLI from dist/ (bin/kiln.js). A dist/ built before the last
 * change to src/ would test old code and pass or fail for the wrong reasons, so the suite refuses
 * to start on one (vitest globalSetup of the `integration` project).
 */

/** Files under `dir` with their modification times. */
function files(dir: string): { path: string; mtimeMs: number }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => ({ path, mtimeMs: statSync(path).mtimeMs }));
}

/** Null when dist/ was built after the last change under src/; else why not, and what to run. */
export function staleDist(root: string): string | null {
  const dist = join(root, 'dist');
  const built = existsSync(dist) ? files(dist) : [];
  if (built.length === 0) return 'dist/ is missing: run npm run build';
  // The build (tsc, not incremental, then the docs page bundle) rewrites every output, so the
  // newest one is when it last ran, whatever the layout of dist/.
  const builtAt = Math.max(...built.map((file) => file.mtimeMs));
  const changed = files(join(root, 'src')).filter((file) => file.mtimeMs > builtAt).map((file) => relative(root, file.path));
  if (changed.length === 0) return null;
  const shown = changed.slice(0, 3).join(', ') + (changed.length > 3 ? ` and ${changed.length - 3} more` : '');
  return `dist/ is older than src/: run npm run build (changed since the last build: ${shown})`;
}

export default function setup(): void {
  const problem = staleDist(fileURLToPath(new URL('../..', import.meta.url)));
  if (problem) throw new Error(problem);
}
