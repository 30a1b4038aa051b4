import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CompiledTemplateCache } from '../template/template-cache.js';
import { TEMPLATE_CACHE_VERSION } from '../template/template-engine.js';
import { KILN_VERSION } from './compile-project.js';

interface CacheDocument {
  readonly version: string;
  readonly entries: Record<string, string>;
}

/**
 * A CompiledTemplateCache in one JSON file under target/. The whole file is dropped when `version`
 * (kiln's and nunjucks' versions, the environment's options) differs, and each save keeps only
 * the entries this invocation used, so it never grows past the project. An unreadable or corrupt
 * file is an empty cache, never an error.
 */
export class TemplateCacheFile implements CompiledTemplateCache {
  private readonly used = new Map<string, string>();
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly version: string,
    private readonly entries: ReadonlyMap<string, string>,
  ) {}

  static open(file: string, version: string): TemplateCacheFile {
    let entries = new Map<string, string>();
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as CacheDocument;
      if (doc.version === version && doc.entries && typeof doc.entries === 'object') entries = new Map(Object.entries(doc.entries));
    } catch {
      // missing or unreadable: start empty
    }
    return new TemplateCacheFile(file, version, entries);
  }

  get(key: string): string | undefined {
    const source = this.entries.get(key);
    if (source !== undefined) this.used.set(key, source);
    return source;
  }

  set(key: string, source: string): void {
    this.used.set(key, source);
    this.dirty = true;
  }

  /** Writes the entries used since open, if they differ from what was read. */
  save(): void {
    if (!this.dirty && this.used.size === this.entries.size) return;
    const doc: CacheDocument = { version: this.version, entries: Object.fromEntries(this.used) };
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a concurrent reader never sees half a file.
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(doc));
    renameSync(temp, this.file);
    this.dirty = false;
  }
}

/** The compiled-template cache of a project, in `<target>/.cache/`. */
export function openTemplateCache(targetDir: string): TemplateCacheFile {
  return TemplateCacheFile.open(join(targetDir, '.cache', 'nunjucks-templates.json'), `kiln ${KILN_VERSION}; ${TEMPLATE_CACHE_VERSION}`);
}
