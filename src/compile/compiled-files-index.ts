import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const VERSION = 1;

/**
 * What the last compile wrote under target/compiled/: a digest of each file's SQL by its path.
 * A warm compile compares digests instead of reading 10k files back; a file missing from its
 * folder, or absent from the index (an index from before, or none), is compared the slow way.
 * Whatever writes compiled files keeps the index in step (see write-artifacts.ts), so a digest
 * here always describes what is on disk; `kiln clean` removes both.
 */
export class CompiledFilesIndex {
  private constructor(
    private readonly file: string,
    private readonly digests: Map<string, string>,
  ) {}

  static open(targetDir: string): CompiledFilesIndex {
    const file = join(targetDir, '.cache', 'compiled-files.json');
    let digests = new Map<string, string>();
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { version?: number; digests?: Record<string, string> };
      if (doc.version === VERSION && doc.digests && typeof doc.digests === 'object') digests = new Map(Object.entries(doc.digests));
    } catch {
      // missing or unreadable: every file is compared by content
    }
    return new CompiledFilesIndex(file, digests);
  }

  /** The digest recorded for `path`, if any. */
  get(path: string): string | undefined {
    return this.digests.get(path);
  }

  set(path: string, digest: string): void {
    this.digests.set(path, digest);
  }

  /**
   * Replaces every entry: after a full compile the index lists exactly the files it wrote or
   * kept. Returns false when nothing changed (no need to save).
   */
  replaceAll(next: ReadonlyMap<string, string>): boolean {
    let same = next.size === this.digests.size;
    if (same) for (const [k, v] of next) if (this.digests.get(k) !== v) { same = false; break; }
    if (same) return false;
    this.digests.clear();
    for (const [k, v] of next) this.digests.set(k, v);
    return true;
  }

  save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a concurrent reader never sees half a file.
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify({ version: VERSION, digests: Object.fromEntries(this.digests) }));
    renameSync(temp, this.file);
  }

  /**
   * Removes the file (the entries stay in memory) before files are written: a kill midway then
   * leaves no digest of a file that was not written, and the next compile compares by content.
   */
  unlink(): void {
    rmSync(this.file, { force: true });
  }
}

export function sqlDigest(text: string): string {
  return createHash('sha1').update(text).digest('base64url');
}
