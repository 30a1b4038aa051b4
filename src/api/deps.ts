import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { KilnError } from '../errors.js';
import { parseProjectFile, PROJECT_FILE } from '../project/load-project.js';
import { describePackageSpec, PACKAGE_LOCK_FILE, PACKAGES_INSTALL_PATH, readPackageSpecs, type PackageSpec } from '../project/package-specs.js';
import { DBT_PROJECT_FILE, packageSpecsDigest } from '../project/packages.js';
import { diskProjectFiles } from '../project/project-files.js';

export interface DepsOptions {
  readonly projectDir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface InstalledPackage {
  readonly name: string;
  /** How packages.yml names it (`local: ../x`, `package: dbt-labs/dbt_utils (version 1.3.0)`). */
  readonly source: string;
  /** The version installed, where the source has one. */
  readonly version?: string;
}

export interface DepsOutcome {
  readonly installed: readonly InstalledPackage[];
  /** Project-relative; undefined when the project lists no packages. */
  readonly lockFile?: string;
}

const HUB_API = 'https://hub.getdbt.com/api/v1';
const UNREACHABLE_HINT = 'check the network and the address; without a network, use a local: package (a folder) or a tarball: of a file on disk';

/**
 * `kiln deps`: installs every package packages.yml (or dependencies.yml) lists into dbt_packages/
 * and records them in package-lock.yml. `local:` packages are linked (no copy, no network); the
 * others are downloaded. Each package is unpacked beside its place and renamed into it, so an
 * interrupted install leaves the previous version, never half of one.
 */
export async function installPackages(options: DepsOptions = {}): Promise<DepsOutcome> {
  const root = resolve(options.projectDir ?? process.cwd());
  const files = diskProjectFiles(root);
  const projectFile = files.exists(PROJECT_FILE) ? PROJECT_FILE : files.exists(DBT_PROJECT_FILE) ? DBT_PROJECT_FILE : undefined;
  if (!projectFile) {
    throw new KilnError('PROJECT_NOT_FOUND', `no ${PROJECT_FILE} or ${DBT_PROJECT_FILE} in ${root}`, { hint: 'run kiln deps from a project folder, or pass --project-dir' });
  }
  const config = parseProjectFile(files.read(projectFile), projectFile, []);
  const { file: specFile, specs } = readPackageSpecs(files, { vars: config.vars, env: options.env ?? process.env });
  if (!specFile || specs.length === 0) return { installed: [] };

  const installDir = join(root, PACKAGES_INSTALL_PATH);
  mkdirSync(installDir, { recursive: true });
  clearLeftovers(installDir);
  const installed: Array<InstalledPackage & { readonly lock: Record<string, unknown> }> = [];
  for (const spec of specs) installed.push(await installOne(root, installDir, spec));
  const lock = { packages: installed.map((p) => p.lock), sha1_hash: packageSpecsDigest(files.read(specFile)) };
  const lockPath = join(root, PACKAGE_LOCK_FILE);
  writeFileSync(`${lockPath}.tmp`, stringify(lock));
  renameSync(`${lockPath}.tmp`, lockPath);
  return { installed: installed.map(({ lock: _lock, ...p }) => p), lockFile: PACKAGE_LOCK_FILE };
}

/** Unpacking folders a killed `kiln deps` left behind. */
function clearLeftovers(installDir: string): void {
  for (const entry of readdirSync(installDir)) if (entry.startsWith('.kiln-unpack-')) rmSync(join(installDir, entry), { recursive: true, force: true });
}

async function installOne(root: string, installDir: string, spec: PackageSpec): Promise<InstalledPackage & { readonly lock: Record<string, unknown> }> {
  const source = describePackageSpec(spec);
  if (spec.kind === 'local') {
    const dir = resolve(root, spec.local);
    const name = packageNameIn(dir, spec);
    const link = join(installDir, name);
    rmSync(link, { recursive: true, force: true });
    // Relative, as dbt links it: the project folder can move with its packages.
    symlinkSync(relative(installDir, dir), link, 'dir');
    return { name, source, lock: { local: spec.local, name } };
  }
  const scratch = join(installDir, `.kiln-unpack-${process.pid}-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  try {
    let dir: string;
    let version: string | undefined;
    let lock: Record<string, unknown>;
    if (spec.kind === 'git') {
      dir = gitCheckout(spec, scratch);
      const sha = run('git', ['-C', join(scratch, 'repo'), 'rev-parse', 'HEAD'], spec, source).trim();
      lock = { git: spec.git, revision: sha, ...(spec.subdirectory ? { subdirectory: spec.subdirectory } : {}) };
    } else if (spec.kind === 'tarball') {
      dir = await unpackTarball(root, spec.tarball, scratch, spec, source);
      lock = { tarball: spec.tarball };
    } else {
      const hub = await hubRelease(spec, source);
      version = hub.version;
      dir = await unpackTarball(root, hub.tarball, scratch, spec, source);
      lock = { package: spec.package, version: hub.version };
    }
    const name = spec.kind === 'tarball' && spec.name ? spec.name : packageNameIn(dir, spec);
    const target = join(installDir, name);
    rmSync(target, { recursive: true, force: true });
    renameSync(dir, target);
    return { name, source, ...(version ? { version } : {}), lock: { ...lock, name } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function packageNameIn(dir: string, spec: PackageSpec): string {
  const file = join(dir, DBT_PROJECT_FILE);
  if (!existsSync(file)) {
    throw new KilnError('CONFIG_INVALID', `package '${describePackageSpec(spec)}' has no ${DBT_PROJECT_FILE}${spec.kind === 'git' && !spec.subdirectory ? ' at the top of the repository' : ''}`, {
      location: spec.location,
      hint: spec.kind === 'git' ? 'point subdirectory: at the folder that holds its dbt_project.yml' : 'a package is a dbt project: a folder with a dbt_project.yml',
    });
  }
  return parseProjectFile(readFileSync(file, 'utf8'), file, []).name;
}

function unreachable(spec: PackageSpec, source: string, why: string): KilnError {
  return new KilnError('PACKAGE_UNREACHABLE', `cannot install package '${source}': ${why}`, { location: spec.location, hint: UNREACHABLE_HINT });
}

/** A command's stdout; its first line of stderr as the reason when it fails. */
function run(cmd: string, args: readonly string[], spec: PackageSpec, source: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  if (r.error) throw unreachable(spec, source, r.error.message);
  if (r.status !== 0) {
    const line = (r.stderr || r.stdout).split('\n').map((l) => l.trim()).find((l) => l && !l.startsWith('Cloning into')) ?? `${cmd} exited with ${r.status}`;
    throw unreachable(spec, source, line.replace(/^fatal:\s*/, ''));
  }
  return r.stdout;
}

function gitCheckout(spec: Extract<PackageSpec, { kind: 'git' }>, scratch: string): string {
  const source = describePackageSpec(spec);
  const repo = join(scratch, 'repo');
  // A branch or tag clones shallow; a commit needs the history to check it out.
  const shallow = spawnSync('git', ['clone', '--quiet', '--depth', '1', ...(spec.revision ? ['--branch', spec.revision] : []), spec.git, repo], { encoding: 'utf8', timeout: 300_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  if (shallow.status !== 0) {
    if (!spec.revision || /could not resolve|unable to access|not found|does not exist|could not read/i.test(shallow.stderr ?? '')) {
      run('git', ['clone', '--quiet', '--depth', '1', spec.git, repo], spec, source); // reports why
    }
    rmSync(repo, { recursive: true, force: true });
    run('git', ['clone', '--quiet', spec.git, repo], spec, source);
    run('git', ['-C', repo, 'checkout', '--quiet', spec.revision!], spec, source);
  }
  return spec.subdirectory ? join(repo, spec.subdirectory) : repo;
}

/** Downloads (http/https) or reads (a path or file: URL) a .tar.gz and unpacks it; the folder holding dbt_project.yml. */
async function unpackTarball(root: string, location: string, scratch: string, spec: PackageSpec, source: string): Promise<string> {
  const archive = join(scratch, 'package.tar.gz');
  if (/^https?:\/\//i.test(location)) {
    let res: Response;
    try {
      res = await fetch(location, { signal: AbortSignal.timeout(300_000) });
    } catch (err) {
      throw unreachable(spec, source, causeOf(err));
    }
    if (!res.ok) throw unreachable(spec, source, `${location} answered HTTP ${res.status}`);
    writeFileSync(archive, Buffer.from(await res.arrayBuffer()));
  } else {
    const path = location.startsWith('file:') ? fileURLToPath(location) : isAbsolute(location) ? location : resolve(root, location);
    if (!existsSync(path)) throw unreachable(spec, source, `no such file ${path}`);
    writeFileSync(archive, readFileSync(path));
  }
  const out = join(scratch, 'unpacked');
  mkdirSync(out);
  run('tar', ['-xzf', archive, '-C', out], spec, source);
  // Archives from GitHub and the hub hold one top folder.
  if (existsSync(join(out, DBT_PROJECT_FILE))) return out;
  const tops = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory());
  if (tops.length === 1 && existsSync(join(out, tops[0]!.name, DBT_PROJECT_FILE))) return join(out, tops[0]!.name);
  return out; // packageNameIn reports the missing dbt_project.yml
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
}

/** The hub's release of `package` that `version` asks for: an exact version, or the newest in a range. */
async function hubRelease(spec: Extract<PackageSpec, { kind: 'hub' }>, source: string): Promise<{ version: string; tarball: string }> {
  const url = `${HUB_API}/${spec.package}.json`;
  let index: { versions?: Record<string, { downloads?: { tarball?: string } }> };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    if (res.status === 404) throw new KilnError('CONFIG_INVALID', `the dbt package hub has no package '${spec.package}'`, { location: spec.location, hint: 'hub names look like dbt-labs/dbt_utils' });
    if (!res.ok) throw unreachable(spec, source, `${url} answered HTTP ${res.status}`);
    index = (await res.json()) as typeof index;
  } catch (err) {
    if (err instanceof KilnError) throw err;
    throw unreachable(spec, source, causeOf(err));
  }
  const versions = Object.keys(index.versions ?? {}).filter((v) => /^\d+\.\d+\.\d+$/.test(v));
  const wanted = versions.filter((v) => satisfies(v, spec.version)).sort(compareVersions);
  const version = wanted[wanted.length - 1];
  const tarball = version ? index.versions?.[version]?.downloads?.tarball : undefined;
  if (!version || !tarball) {
    throw new KilnError('CONFIG_INVALID', `no release of '${spec.package}' matches version ${spec.version ?? '(any)'}`, {
      location: spec.location,
      hint: `releases: ${versions.sort(compareVersions).slice(-8).join(', ')}`,
    });
  }
  return { version, tarball };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/** dbt's version specs: `1.3.0`, `">=1.0.0"`, `[">=1.0.0", "<2.0.0"]` (joined with commas by package-specs). */
function satisfies(version: string, spec: string | undefined): boolean {
  if (!spec) return true;
  return spec.split(',').every((part) => {
    const m = /^\s*(>=|<=|>|<|=|==)?\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(part);
    if (!m) return false;
    const want = m[2]!.split('.').concat(['0', '0']).slice(0, 3).join('.');
    const c = compareVersions(version, want);
    switch (m[1]) {
      case '>=':
        return c >= 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      default:
        return c === 0;
    }
  });
}
