import { KilnError, type SourceLocation } from '../errors.js';
import { isPlainObject } from './node-config.js';
import type { ProjectFiles } from './project-files.js';
import { parseYaml } from './yaml-file.js';
import { renderYamlValue, type VarScope } from './yaml-strings.js';

/** dbt reads packages from either file; `dependencies.yml` is its newer name. */
export const PACKAGE_SPEC_FILES = ['packages.yml', 'dependencies.yml'] as const;
/** Where `kiln deps` installs packages and where compile looks for them (dbt's default). */
export const PACKAGES_INSTALL_PATH = 'dbt_packages';
export const PACKAGE_LOCK_FILE = 'package-lock.yml';

/** One entry of `packages:`, as dbt spells its four kinds. */
export type PackageSpec =
  | { readonly kind: 'local'; readonly local: string; readonly location: SourceLocation }
  | { readonly kind: 'git'; readonly git: string; readonly revision?: string; readonly subdirectory?: string; readonly location: SourceLocation }
  | { readonly kind: 'tarball'; readonly tarball: string; readonly name?: string; readonly location: SourceLocation }
  | { readonly kind: 'hub'; readonly package: string; readonly version?: string; readonly location: SourceLocation };

/** How a spec is named in messages and in package-lock.yml. */
export function describePackageSpec(spec: PackageSpec): string {
  switch (spec.kind) {
    case 'local':
      return `local: ${spec.local}`;
    case 'git':
      return `git: ${spec.git}${spec.revision ? ` (revision ${spec.revision})` : ''}`;
    case 'tarball':
      return `tarball: ${spec.tarball}`;
    case 'hub':
      return `package: ${spec.package}${spec.version ? ` (version ${spec.version})` : ''}`;
  }
}

/**
 * The packages a project asks for: `packages.yml`, else `dependencies.yml` (with dbt, a project
 * has one of them). Strings may use env_var()/var(), as dbt renders them (a private git URL with
 * a token from the environment). Empty when neither file exists.
 */
export function readPackageSpecs(files: ProjectFiles, scope: VarScope): { readonly file?: string; readonly specs: readonly PackageSpec[] } {
  const file = PACKAGE_SPEC_FILES.find((f) => files.exists(f));
  if (!file) return { specs: [] };
  const yaml = parseYaml(files.read(file), file);
  const data = yaml.data;
  if (data === null || (isPlainObject(data) && Object.keys(data).length === 0)) return { file, specs: [] };
  if (!isPlainObject(data)) throw new KilnError('CONFIG_INVALID', `${file} must be a mapping with a 'packages:' list`, { location: { file, line: 1 } });
  const list = data.packages ?? [];
  if (!Array.isArray(list)) throw new KilnError('CONFIG_INVALID', `'packages' must be a list`, { location: { file, line: yaml.lineOf(['packages']) } });
  const specs = list.map((raw, i): PackageSpec => {
    const location: SourceLocation = { file, line: yaml.lineOf(['packages', i]) };
    if (!isPlainObject(raw)) throw new KilnError('CONFIG_INVALID', `each entry of 'packages' must be a mapping`, { location, hint: PACKAGE_HINT });
    const r = renderYamlValue(raw, scope, location) as Record<string, unknown>;
    const str = (key: string): string | undefined => (r[key] === undefined || r[key] === null ? undefined : String(r[key]));
    if (str('local') !== undefined) return { kind: 'local', local: str('local')!, location };
    if (str('git') !== undefined) {
      return { kind: 'git', git: str('git')!, ...(str('revision') ? { revision: str('revision')! } : {}), ...(str('subdirectory') ? { subdirectory: str('subdirectory')! } : {}), location };
    }
    if (str('tarball') !== undefined) return { kind: 'tarball', tarball: str('tarball')!, ...(str('name') ? { name: str('name')! } : {}), location };
    if (str('package') !== undefined) {
      const version = Array.isArray(r.version) ? r.version.map(String).join(', ') : str('version');
      return { kind: 'hub', package: str('package')!, ...(version ? { version } : {}), location };
    }
    throw new KilnError('CONFIG_INVALID', `a package entry needs one of local:, git:, tarball: or package:`, { location, hint: PACKAGE_HINT });
  });
  return { file, specs };
}

const PACKAGE_HINT = 'e.g. - local: ../my_package · - git: https://github.com/org/repo.git (revision: v1.0) · - tarball: https://…/pkg.tar.gz (name: pkg) · - package: dbt-labs/dbt_utils (version: 1.3.0)';
