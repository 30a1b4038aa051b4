import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Manifest } from './manifest.js';
import { manifestArtifact } from './manifest-artifact.js';

/** Writes `target/manifest.json` and `target/compiled/<model or test path>.sql`. */
export function writeCompileArtifacts(root: string, targetPath: string, manifest: Manifest): void {
  const target = join(root, targetPath);
  const made = new Set<string>();
  for (const node of [...Object.values(manifest.nodes), ...Object.values(manifest.tests)]) {
    if (node.resource_type === 'seed') continue;
    const file = join(root, node.compiled_path);
    const dir = dirname(file);
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    writeFileSync(file, node.compiled_code);
  }
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'manifest.json'), JSON.stringify(manifestArtifact(manifest)));
}
