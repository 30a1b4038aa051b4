import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Manifest } from './manifest.js';
import { manifestArtifact } from './manifest-artifact.js';

/**
 * Writes `target/manifest.json` and `target/compiled/<model or test path>.sql`. A compiled file
 * that already holds the same SQL is left alone: reading it back costs less than truncating and
 * rewriting it, and its mtime keeps meaning "this SQL changed".
 */
export function writeCompileArtifacts(root: string, targetPath: string, manifest: Manifest): void {
  const target = join(root, targetPath);
  const present = new Map<string, ReadonlySet<string>>();
  for (const node of [...Object.values(manifest.nodes), ...Object.values(manifest.tests)]) {
    if (node.resource_type === 'seed') continue;
    const file = join(root, node.compiled_path);
    const dir = dirname(file);
    let names = present.get(dir);
    if (!names) {
      names = listDir(dir);
      if (names.size === 0) mkdirSync(dir, { recursive: true });
      present.set(dir, names);
    }
    if (names.has(basename(file)) && readFileSync(file, 'utf8') === node.compiled_code) continue;
    writeFileSync(file, node.compiled_code);
  }
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifestArtifact(manifest)));
}

function listDir(dir: string): ReadonlySet<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}
