import { createHash, createHmac, randomBytes, type Hash } from 'node:crypto';
import { homedir } from 'node:os';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Warning } from '../errors.js';
import type { ListedFile, ProjectFiles } from '../project/project-files.js';

/**
 * "Nothing changed" for `kiln compile`, as dbt's partial parsing is for `dbt parse`: a compile
 * records everything it read — each listing of a folder, each file's bytes, each environment
 * variable, the options that shape the output — as one digest, in the order it read them. The
 * next compile reads the same things in the same order; if the digest is the same, its output
 * would be byte for byte what target/ already holds, so only the manifest's invocation id and
 * time are rewritten. Anything read differently (a file edited, added or removed, a var, an
 * env var, kiln itself rebuilt) gives another digest and a full compile.
 *
 * Not recorded, so never reused: a compile whose templates read the clock or the invocation id
 * (their SQL differs on every run), or that failed.
 */

const VERSION = 1;

export interface RecordedCompile {
  readonly version: number;
  /** kiln's own build (its module file's size and time), so a rebuilt kiln compiles afresh. */
  readonly kiln: string;
  readonly options: string;
  /** What was read, in order: `L` a listing, `R` a text file, `B` bytes, `E` an existence check. */
  readonly reads: ReadonlyArray<readonly [op: 'L' | 'R' | 'B' | 'E', arg: string]>;
  readonly digest: string;
  /** Environment variables read, each as a keyed digest of its value (never the value: it may be a secret; see envKey). */
  readonly env: Readonly<Record<string, string>>;
  /** The compile's outcome, told again when it is reused. */
  readonly counts: Readonly<Record<string, number>>;
  readonly warnings: readonly Warning[];
}

const fileOf = (targetDir: string) => join(targetDir, '.cache', 'compile-inputs.json');
/**
 * manifest.json's size and mtime as kiln last wrote it, apart from the (large) record so that
 * restamping the manifest rewrites only this: a manifest changed since by anything else is not reused.
 */
const stampOf = (targetDir: string) => join(targetDir, '.cache', 'compile-inputs.manifest.json');

interface ManifestStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

function saveManifestStamp(targetDir: string): void {
  const s = statSync(join(targetDir, 'manifest.json'));
  writeAtomically(stampOf(targetDir), JSON.stringify({ size: s.size, mtimeMs: s.mtimeMs } satisfies ManifestStamp));
}

function manifestUnchanged(targetDir: string): boolean {
  try {
    const want = JSON.parse(readFileSync(stampOf(targetDir), 'utf8')) as ManifestStamp;
    const s = statSync(join(targetDir, 'manifest.json'));
    return s.size === want.size && s.mtimeMs === want.mtimeMs;
  } catch {
    return false;
  }
}

/**
 * The key env values are digested with: random, one per user, kept outside the project. target/
 * may travel (a CI artifact), and a plain digest of a short password could be guessed from it.
 * Undefined where it cannot be kept: then a compile that read env vars is not recorded.
 */
let envKeyCache: Buffer | null | undefined;
function envKey(): Buffer | undefined {
  if (envKeyCache !== undefined) return envKeyCache ?? undefined;
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kiln');
  const file = join(dir, 'compile-inputs.key');
  const read = () => {
    try {
      const key = readFileSync(file);
      return key.length >= 32 ? key : undefined;
    } catch {
      return undefined;
    }
  };
  let key = read();
  if (!key) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
    } catch {
      // another process made it first, or the folder cannot be written
    }
    key = read();
  }
  envKeyCache = key ?? null;
  return key;
}

/** A keyed digest of an env value ('-' when unset); undefined without a key. */
function valueDigest(value: string | undefined): string | undefined {
  if (value === undefined) return '-';
  const key = envKey();
  return key ? createHmac('sha256', key).update(value).digest('base64url') : undefined;
}

/** kiln's own build: this module's file stands for the bundle or dist/ it was loaded from. */
function kilnBuild(): string {
  try {
    const s = statSync(fileURLToPath(import.meta.url));
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'unknown';
  }
}

/** Reads through `inner`, feeding what it reads to a digest in read order. */
export class InputRecorder {
  private readonly hash: Hash = createHash('sha1');
  private readonly reads: Array<readonly ['L' | 'R' | 'B' | 'E', string]> = [];
  private readonly envRead = new Map<string, string>();
  /** Set when something read the whole environment (its keys), or a value could not be digested: then nothing is recorded. */
  private wholeEnv = false;

  constructor(private readonly options: string) {}

  files(inner: ProjectFiles): ProjectFiles {
    return recordingFiles(inner, (op, arg) => this.reads.push([op, arg]), this.hash);
  }

  env(inner: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
    return new Proxy(inner as Record<string, string | undefined>, {
      get: (t, key) => {
        const value = t[key as string];
        if (typeof key === 'string') {
          const digest = valueDigest(value);
          if (digest === undefined) this.wholeEnv = true; // no key to digest it with: not recorded
          else this.envRead.set(key, digest);
        }
        return value;
      },
      ownKeys: (t) => {
        this.wholeEnv = true;
        return Reflect.ownKeys(t);
      },
    });
  }

  /** Saves the record after a compile wrote target/; drops any older one when this one cannot be reused. */
  save(targetDir: string, outcome: { readonly reusable: boolean; readonly counts: Record<string, number>; readonly warnings: readonly Warning[] }): void {
    forgetRecordedCompile(targetDir);
    if (!outcome.reusable || this.wholeEnv) return;
    const record: RecordedCompile = {
      version: VERSION,
      kiln: kilnBuild(),
      options: this.options,
      reads: this.reads,
      digest: this.hash.digest('base64url'),
      env: Object.fromEntries(this.envRead),
      counts: outcome.counts,
      warnings: outcome.warnings,
    };
    saveManifestStamp(targetDir);
    writeAtomically(fileOf(targetDir), JSON.stringify(record));
  }
}

/** Forgets the record: called before a compile writes target/, so a kill midway leaves none. */
export function forgetRecordedCompile(targetDir: string): void {
  rmSync(fileOf(targetDir), { force: true });
  rmSync(stampOf(targetDir), { force: true });
}

function recordingFiles(inner: ProjectFiles, note: (op: 'L' | 'R' | 'B' | 'E', arg: string) => void, hash: Hash): ProjectFiles {
  const guarded = <T>(op: 'R' | 'B', path: string, read: () => T, bytes: (v: T) => string | Buffer): T => {
    note(op, path);
    // The op is not hashed: a replay reads R and B alike as bytes.
    hash.update(`\u0000${path}\u0000`);
    let value: T;
    try {
      value = read();
    } catch (err) {
      hash.update(`!${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      throw err;
    }
    hash.update(bytes(value));
    return value;
  };
  return {
    root: inner.root,
    list(dirs, exts) {
      const arg = JSON.stringify([dirs, exts]);
      note('L', arg);
      const listed = inner.list(dirs, exts);
      hash.update(`\u0000L${arg}\u0000${listingText(listed)}`);
      return listed;
    },
    exists(path) {
      note('E', path);
      const yes = inner.exists(path);
      hash.update(`\u0000E${path}\u0000${yes ? 1 : 0}`);
      return yes;
    },
    read: (path) => guarded('R', path, () => inner.read(path), (t) => t),
    readBytes: (path) => guarded('B', path, () => inner.readBytes(path), (b) => b),
  };
}

const listingText = (listed: readonly ListedFile[]) => listed.map((f) => `${f.base}\u0001${f.path}`).join('\u0002');

/**
 * The recorded compile of this project, if reading the same inputs again gives the same digest
 * and target/ still holds what it wrote; undefined otherwise (compile afresh).
 */
export function unchangedCompile(
  root: string,
  targetDir: string,
  files: ProjectFiles,
  env: Readonly<Record<string, string | undefined>>,
  options: string,
): RecordedCompile | undefined {
  let record: RecordedCompile;
  try {
    record = JSON.parse(readFileSync(fileOf(targetDir), 'utf8')) as RecordedCompile;
  } catch {
    return undefined;
  }
  if (record.version !== VERSION || record.options !== options || record.kiln !== kilnBuild()) return undefined;
  for (const [name, digest] of Object.entries(record.env)) if (valueDigest(env[name]) !== digest) return undefined;
  if (!manifestUnchanged(targetDir)) return undefined;
  // The compiled files the index says were written must all still be there.
  const compiled = compiledPathsOf(targetDir);
  if (compiled === undefined || !allPresent(root, compiled)) return undefined;

  const hash = createHash('sha1');
  const replay = recordingFiles(files, () => undefined, hash);
  try {
    for (const [op, arg] of record.reads) {
      if (op === 'L') {
        const [dirs, exts] = JSON.parse(arg) as [string[], string[]];
        replay.list(dirs, exts);
      } else if (op === 'E') replay.exists(arg);
      else {
        try {
          // Bytes either way: hashing them is hashing the text the compile read, without decoding
          // it (a file that is not valid UTF-8 then only misses, its text cannot have changed).
          replay.readBytes(arg);
        } catch {
          // recorded in the digest, as when the compile read it
        }
      }
    }
  } catch {
    return undefined;
  }
  return hash.digest('base64url') === record.digest ? record : undefined;
}

/**
 * Puts this invocation's id and time in manifest.json's metadata, the only part of it that
 * differs between two compiles of the same inputs. Both have a fixed length, so the manifest's
 * first bytes are overwritten in place rather than 10 MB rewritten.
 */
export function restampManifest(targetDir: string, stamp: { readonly invocationId: string; readonly generatedAt: string }): boolean {
  const path = join(targetDir, 'manifest.json');
  const fd = openSync(path, 'r+');
  try {
    const buf = Buffer.alloc(4096);
    const head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    // Metadata is the manifest's first key and its values are JSON strings: the first `,"nodes":` ends it.
    const end = head.indexOf(',"nodes":');
    const before = end > 0 ? head.slice(0, end) : '';
    const parsed = before ? (JSON.parse(`${before}}`) as { metadata?: Record<string, unknown> }) : {};
    const metadata = { ...parsed.metadata, generated_at: stamp.generatedAt, invocation_id: stamp.invocationId };
    const next = `{"metadata":${JSON.stringify(metadata)}`;
    // Anything else (a manifest edited by hand) is compiled afresh.
    if (!parsed.metadata || Buffer.byteLength(next) !== Buffer.byteLength(before)) return false;
    writeSync(fd, next, 0, 'utf8');
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
  saveManifestStamp(targetDir);
  return true;
}

/** The compiled files the last compile wrote or kept (compiled-files-index.ts); undefined without an index. */
function compiledPathsOf(targetDir: string): string[] | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(targetDir, '.cache', 'compiled-files.json'), 'utf8')) as { digests?: Record<string, string> };
    return doc.digests ? Object.keys(doc.digests) : undefined;
  } catch {
    return undefined;
  }
}

/** Every compiled file (project-relative) still there: one listing per folder. */
function allPresent(root: string, paths: readonly string[]): boolean {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const full = join(root, p);
    const dir = dirname(full);
    let names = byDir.get(dir);
    if (!names) {
      try {
        names = new Set(readdirSync(dir));
      } catch {
        return false;
      }
      byDir.set(dir, names);
    }
    if (!names.has(full.slice(dir.length + 1))) return false;
  }
  return true;
}
