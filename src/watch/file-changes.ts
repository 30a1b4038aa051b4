import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ParsedProject } from '../project/nodes.js';
import type { ProjectConfig } from '../project/types.js';

/**
 * Pure helpers for `kiln watch`: which paths to watch, and what a changed path means — a
 * project file (re-parse and rebuild what changed) or a raw data file of a source (stage it and
 * rebuild downstream). No file system access here beyond path arithmetic.
 */

/** A source whose raw data comes from files matching `glob` (absolute). */
export interface DataGlob {
  readonly sourceId: string;
  readonly glob: string;
  readonly base: string;
  readonly matcher: RegExp;
}

export type ChangeKind = { readonly kind: 'project' } | { readonly kind: 'data'; readonly sourceIds: readonly string[] } | { readonly kind: 'ignored' };

const PROJECT_FILE = /\.(sql|ya?ml|csv|md)$/i;

/** The folders a running watch must never react to (its own output and the warehouse). */
export function ignoredRoots(root: string, config: ProjectConfig, warehousePath: string | undefined): string[] {
  const out = [join(root, config.targetPath), join(root, '.kiln'), join(root, 'node_modules'), join(root, '.git'), join(root, 'dist')];
  if (warehousePath) out.push(resolve(root, warehousePath));
  return out;
}

export function isUnder(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Data globs of file-based sources (`path:` in sources.yml) and the dump file of a mysql source
 * (`dump:`; a new dump restages its tables), resolved against the project root.
 */
export function dataGlobs(root: string, parsed: ParsedProject): DataGlob[] {
  const out: DataGlob[] = [];
  for (const s of parsed.sources) {
    const p = s.loader === 'mysql' ? s.options.dump : s.options.path;
    if (typeof p !== 'string' || !p) continue;
    const glob = resolve(root, p);
    out.push({ sourceId: s.uniqueId, glob, base: globBase(glob), matcher: globToRegExp(glob) });
  }
  return out;
}

/** Paths to hand to the watcher: the project folder, plus data folders that live outside it. */
export function watchRoots(root: string, globs: readonly DataGlob[]): string[] {
  const roots = [root];
  for (const g of globs) if (!roots.some((r) => isUnder(g.base, r))) roots.push(g.base);
  return roots;
}

export function classifyChange(path: string, root: string, config: ProjectConfig, globs: readonly DataGlob[]): ChangeKind {
  const sources = globs.filter((g) => g.matcher.test(path)).map((g) => g.sourceId);
  if (sources.length) return { kind: 'data', sourceIds: [...new Set(sources)] };
  if (!isUnder(path, root) || !PROJECT_FILE.test(path)) return { kind: 'ignored' };
  const rel = relative(root, path).split(sep).join('/');
  if (rel === 'project.yml' || rel === 'sources.yml') return { kind: 'project' };
  const dirs = [...config.modelPaths, ...config.snapshotPaths, ...config.seedPaths, ...config.macroPaths, ...config.testPaths];
  return dirs.some((d) => rel === d || rel.startsWith(`${d.replace(/\/+$/, '')}/`)) ? { kind: 'project' } : { kind: 'ignored' };
}

/** The folder part of a glob before its first wildcard. */
export function globBase(glob: string): string {
  const parts = glob.split('/');
  const i = parts.findIndex((p) => /[*?[{]/.test(p));
  const base = (i < 0 ? parts.slice(0, -1) : parts.slice(0, i)).join('/');
  return base || '/';
}

/** `**`, `*`, `?`, `{a,b}` globs as a RegExp over absolute paths with `/` separators. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        re += `(?:${glob.slice(i + 1, end).split(',').map(escape).join('|')})`;
        i = end;
      }
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`);
}

function escape(s: string): string {
  return s.replace(/[.+^${}()|[\]\\]/g, '\\$&');
}
