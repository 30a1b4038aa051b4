import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { KilnError, type Warning } from '../errors.js';
import { isPlainObject } from './node-config.js';
import { describePackageSpec, PACKAGE_LOCK_FILE, PACKAGES_INSTALL_PATH, readPackageSpecs, type PackageSpec } from './package-specs.js';
import type { ProjectFiles } from './project-files.js';
import type { ProjectConfig } from './types.js';
import { parseYaml } from './yaml-file.js';
import type { VarScope } from './yaml-strings.js';

/** dbt's project file: a package always has one (kiln's own `project.yml` is for root projects). */
export const DBT_PROJECT_FILE = 'dbt_project.yml';

/** An installed package, read like a project: its models, seeds, macros and tests become the root's nodes. */
export interface PackageProject {
  readonly name: string;
  /** Project-relative folder holding its dbt_project.yml (`dbt_packages/dbt_utils`, or a `local:` path as written). */
  readonly dir: string;
  /** Its dbt_project.yml; every path in it is already relative to the root project (prefixed with `dir`). */
  readonly config: ProjectConfig;
}

/** Parses a package's (or a root's) project file into a config; given by load-project.ts so the two read alike. */
export type ProjectFileParser = (text: string, file: string, warnings: Warning[], scope?: VarScope) => ProjectConfig;

/**
 * The packages a compile reads: each `local:` package in place (no `kiln deps` needed), and each
 * package installed in dbt_packages/ (by `kiln deps` or by dbt). A package packages.yml names that
 * is not installed is an error that says to run `kiln deps`; compile itself never downloads.
 */
export function loadPackages(files: ProjectFiles, rootName: string, scope: VarScope, parse: ProjectFileParser): PackageProject[] {
  const { file: specFile, specs } = readPackageSpecs(files, scope);
  const byName = new Map<string, PackageProject>();
  const add = (dir: string, spec: PackageSpec | undefined) => {
    const projectFile = `${dir}/${DBT_PROJECT_FILE}`;
    if (!files.exists(projectFile)) {
      throw new KilnError('CONFIG_INVALID', `package ${spec ? `'${describePackageSpec(spec)}'` : `folder ${dir}`} has no ${DBT_PROJECT_FILE}`, {
        ...(spec ? { location: spec.location } : { location: { file: dir } }),
        hint: 'a package is a dbt project: point local: at the folder that holds its dbt_project.yml',
      });
    }
    // A package's own unknown keys are its authors' business, not this project's: not reported.
    const config = withPrefix(parse(files.read(projectFile), projectFile, [], scope), dir);
    if (config.name === rootName || byName.has(config.name)) return;
    byName.set(config.name, { name: config.name, dir, config });
  };
  for (const spec of specs) if (spec.kind === 'local') add(posix.normalize(spec.local.replace(/\\/g, '/')).replace(/\/+$/, ''), spec);
  const installed = files
    .list([PACKAGES_INSTALL_PATH], ['.yml'])
    .filter((f) => f.path.split('/').length === 3 && f.path.endsWith(`/${DBT_PROJECT_FILE}`))
    .map((f) => f.path.slice(0, -DBT_PROJECT_FILE.length - 1));
  for (const dir of installed) add(dir, undefined);
  checkInstalled(files, specFile, specs, new Set(byName.keys()));
  return [...byName.values()];
}

/** Every non-local package of packages.yml is installed: by package-lock.yml's names, else by count. */
function checkInstalled(files: ProjectFiles, specFile: string | undefined, specs: readonly PackageSpec[], installed: ReadonlySet<string>): void {
  const remote = specs.filter((s) => s.kind !== 'local');
  if (!specFile || remote.length === 0) return;
  const hint = 'run `kiln deps` to install the packages packages.yml lists into dbt_packages/';
  if (!files.exists(PACKAGE_LOCK_FILE)) {
    const first = remote[0]!;
    throw new KilnError('CONFIG_INVALID', `package '${describePackageSpec(first)}' is not installed`, { location: first.location, hint });
  }
  const lock = parseYaml(files.read(PACKAGE_LOCK_FILE), PACKAGE_LOCK_FILE);
  const entries = isPlainObject(lock.data) && Array.isArray(lock.data.packages) ? lock.data.packages : [];
  entries.forEach((entry, i) => {
    if (!isPlainObject(entry) || typeof entry.name !== 'string' || entry.local !== undefined) return;
    if (!installed.has(entry.name)) {
      throw new KilnError('CONFIG_INVALID', `package '${entry.name}' (in ${PACKAGE_LOCK_FILE}) is not installed in ${PACKAGES_INSTALL_PATH}/`, {
        location: { file: PACKAGE_LOCK_FILE, line: lock.lineOf(['packages', i]) ?? 1 },
        hint,
      });
    }
  });
}

/** The digest package-lock.yml keeps of packages.yml, so a changed packages.yml is noticed. */
export function packageSpecsDigest(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function withPrefix(config: ProjectConfig, dir: string): ProjectConfig {
  const under = (paths: readonly string[]) => paths.map((p) => posix.join(dir, p.replace(/\/+$/, '')));
  return {
    ...config,
    modelPaths: under(config.modelPaths),
    snapshotPaths: under(config.snapshotPaths),
    seedPaths: under(config.seedPaths),
    macroPaths: under(config.macroPaths),
    testPaths: under(config.testPaths),
    docsPaths: under(config.docsPaths),
  };
}
