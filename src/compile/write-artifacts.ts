import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Manifest } from './manifest.js';
import { CompiledFilesIndex, sqlDigest } from './compiled-files-index.js';
import { manifestArtifact } from './manifest-artifact.js';
import { writeFilesWhile, type FileWrite } from './parallel-writes.js';

/**
 * Writes `target/manifest.json` and `target/compiled/<model or test path>.sql`. A compiled file
 * that already holds the same SQL is left alone, so its mtime keeps meaning "this SQL changed";
 * whether it does is told by the digest the last compile recorded (compiled-files-index.ts), or,
 * without one, by reading it back. The compiled files are written while the manifest is
 * serialized (see parallel-writes.ts).
 */
export function writeCompileArtifacts(root: string, targetPath: string, manifest: Manifest): void {
  const index = CompiledFilesIndex.open(join(root, targetPath));
  const present = new Map<string, ReadonlySet<string>>();
  const files: FileWrite[] = [];
  const digests = new Map<string, string>();
  const add = (node: { readonly compiled_path: string; readonly compiled_code: string }) => {
    const path = join(root, node.compiled_path);
    const dir = dirname(path);
    let names = present.get(dir);
    if (!names) {
      names = listDir(dir);
      if (names.size === 0) mkdirSync(dir, { recursive: true });
      present.set(dir, names);
    }
    const digest = sqlDigest(node.compiled_code);
    digests.set(node.compiled_path, digest);
    const exists = names.has(basename(path));
    const known = index.get(node.compiled_path);
    // The index says what is on disk: the same digest needs no write, a different one needs no read.
    if (exists && known === digest) return;
    files.push({ path, text: node.compiled_code, mayExist: exists && known === undefined });
  };
  for (const node of Object.values(manifest.nodes)) if (node.resource_type !== 'seed') add(node);
  for (const node of Object.values(manifest.tests)) add(node);
  if (files.length) index.unlink();
  writeFilesWhile(files, () => writeManifest(root, targetPath, manifest));
  // Saved again after an unlink even when unchanged: the file is gone then.
  if (index.replaceAll(digests) || files.length) index.save();
}

/**
 * After a recompile: the compiled files whose SQL differs from `previous`, then the manifest.
 * Nodes the recompile kept are the previous objects, so most are skipped without a comparison.
 */
export function writeChangedArtifacts(root: string, targetPath: string, manifest: Manifest, previous: Manifest): void {
  const index = CompiledFilesIndex.open(join(root, targetPath));
  let written = 0;
  const write = (node: { readonly compiled_path: string; readonly compiled_code: string }) => {
    const path = join(root, node.compiled_path);
    if (written++ === 0) index.unlink();
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, node.compiled_code);
    index.set(node.compiled_path, sqlDigest(node.compiled_code));
  };
  for (const [id, node] of Object.entries(manifest.nodes)) {
    const before = previous.nodes[id];
    if (node === before || node.resource_type === 'seed') continue;
    if ((before?.resource_type === 'model' || before?.resource_type === 'snapshot') && before.compiled_code === node.compiled_code && before.compiled_path === node.compiled_path) continue;
    write(node);
  }
  for (const [id, node] of Object.entries(manifest.tests)) {
    const before = previous.tests[id];
    if (before && before.compiled_code === node.compiled_code && before.compiled_path === node.compiled_path) continue;
    write(node);
  }
  if (written) index.save();
  writeManifest(root, targetPath, manifest);
}

function writeManifest(root: string, targetPath: string, manifest: Manifest): void {
  const target = join(root, targetPath);
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
