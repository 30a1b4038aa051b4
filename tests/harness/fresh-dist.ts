import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The integration suite runs the real CLI from dist/ (bin/kiln.js). A dist/ built before the last
 * change to src/ would test old code and pass or fail for the wrong reasons, so the suite refuses
 * to start on one (vitest globalSetup of the `integration` project).
 */

/** Null when every src/**.ts has its dist/ .js built after it; else why not, and what to run. */
export function staleDist(root: string): string | null {
  const src = join(root, 'src');
  const stale: string[] = [];
  for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const built = join(root, 'dist', relative(src, source).replace(/\.ts$/, '.js'));
    // tsc (not incremental) rewrites every output on each build, so an output older than its source was not rebuilt.
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) stale.push(relative(root, source));
  }
  if (stale.length === 0) return null;
  const shown = stale.slice(0, 3).join(', ') + (stale.length > 3 ? ` and ${stale.length - 3} more` : '');
  return `dist/ is older than src/: run npm run build (changed since the last build: ${shown})`;
}

export default function setup(): void {
  const problem = staleDist(fileURLToPath(new URL('../..', import.meta.url)));
  if (problem) throw new Error(problem);
}
