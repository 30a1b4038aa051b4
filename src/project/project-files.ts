import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** A file found under one of a project's resource folders. Paths are project-relative, `/`-separated. */
export interface ListedFile {
  readonly path: string;
  /** The resource folder it was found under (`models`), so folder configs can follow its subfolders. */
  readonly base: string;
}

/**
 * Everything compile reads, behind one interface: the disk for the CLI, a map of texts for tests
 * and tools. Compile's stages read only through it, and only while reading the project; once
 * the files are parsed, nothing below touches the file system.
 */
export interface ProjectFiles {
  /** Absolute project root; artifacts and seeds' `root_path` are relative to it. */
  readonly root: string;
  /** Files under `dirs` whose extension is one of `exts`, sorted by path so manifests are reproducible. */
  list(dirs: readonly string[], exts: readonly string[]): ListedFile[];
  exists(path: string): boolean;
  /** UTF-8 text; throws like fs does when the file is missing. */
  read(path: string): string;
  /** Raw bytes (seed checksums hash the file as stored). */
  readBytes(path: string): Buffer;
}

export function diskProjectFiles(root: string): ProjectFiles {
  const abs = (path: string) => join(root, path);
  // Every listed path is under root: cutting the prefix is what relative() would do, without its cost per file.
  const rel = (p: string) => (p.startsWith(root + sep) ? p.slice(root.length + 1) : relative(root, p)).split(sep).join('/');
  return {
    root,
    list(dirs, exts) {
      const out: ListedFile[] = [];
      for (const dir of dirs) {
        const base = abs(dir);
        if (!existsSync(base)) continue;
        for (const entry of readdirSync(base, { recursive: true, withFileTypes: true })) {
          if (entry.isFile() && exts.includes(extname(entry.name))) out.push({ path: rel(join(entry.parentPath, entry.name)), base: rel(base) });
        }
      }
      return sortByPath(out);
    },
    exists: (path) => existsSync(abs(path)),
    read: (path) => readFileSync(abs(path), 'utf8'),
    readBytes: (path) => readFileSync(abs(path)),
  };
}

/**
 * `inner`, each listing and file read from disk once: a compile that follows a check of the same
 * files (compile-inputs.ts) gets their bytes from memory instead of reading 10k files twice.
 */
export function memoizedProjectFiles(inner: ProjectFiles): ProjectFiles {
  const lists = new Map<string, ListedFile[]>();
  const bytes = new Map<string, Buffer>();
  const readBytes = (path: string): Buffer => {
    let b = bytes.get(path);
    if (!b) bytes.set(path, (b = inner.readBytes(path)));
    return b;
  };
  return {
    root: inner.root,
    list(dirs, exts) {
      const key = JSON.stringify([dirs, exts]);
      let listed = lists.get(key);
      if (!listed) lists.set(key, (listed = inner.list(dirs, exts)));
      return listed.slice();
    },
    exists: (path) => bytes.has(path) || inner.exists(path),
    // A compile reads each text once: hand the bytes over and let them go.
    read: (path) => {
      const text = readBytes(path).toString('utf8');
      bytes.delete(path);
      return text;
    },
    readBytes,
  };
}

/** Files held in memory (project-relative path → text): a project compiled without a disk. */
export function memoryProjectFiles(root: string, files: Readonly<Record<string, string>>): ProjectFiles {
  const missing = (path: string) => Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
  const get = (path: string) => {
    const text = files[path];
    if (text === undefined) throw missing(path);
    return text;
  };
  return {
    root,
    list(dirs, exts) {
      const out: ListedFile[] = [];
      for (const dir of dirs) {
        const base = dir.replace(/\/+$/, '');
        for (const path of Object.keys(files)) {
          if (path.startsWith(`${base}/`) && exts.includes(extname(path))) out.push({ path, base });
        }
      }
      return sortByPath(out);
    },
    exists: (path) => files[path] !== undefined || Object.keys(files).some((p) => p.startsWith(`${path.replace(/\/+$/, '')}/`)),
    read: get,
    readBytes: (path) => Buffer.from(get(path), 'utf8'),
  };
}

function sortByPath(files: ListedFile[]): ListedFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
