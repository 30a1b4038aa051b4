import { isAbsolute, join, resolve } from 'node:path';
import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { didYouMean } from './closest.js';
import { isPlainObject, parseFolderConfig } from './node-config.js';
import type { EngineKind, ProjectConfig, TargetConfig } from './types.js';
import { diskProjectFiles, type ProjectFiles } from './project-files.js';
import { parseYaml, type YamlFile } from './yaml-file.js';
import { renderYamlValue, type VarScope } from './yaml-strings.js';
import { unknownKeyWarning } from './yaml-keys.js';
import { DBT_PROJECT_FILE, loadPackages, type PackageProject } from './packages.js';
import { varScopes } from './var-scopes.js';
import { findProfiles, targetOfProfileOutput, type ProfileTargets } from './profiles.js';

export const PROJECT_FILE = 'project.yml';

const PROJECT_KEYS = [
  'name', 'version', 'config-version', 'profile', 'model-paths', 'seed-paths', 'macro-paths', 'test-paths',
  'analysis-paths', 'snapshot-paths', 'docs-paths', 'target-path', 'clean-targets', 'vars', 'models', 'seeds', 'snapshots', 'tests',
  'data_tests', 'sources', 'target', 'targets', 'require-dbt-version', 'strict', 'dispatch',
  // dbt keys that change nothing kiln does: accepted without a word.
  'asset-paths', 'log-path', 'packages-install-path', 'dbt-cloud', 'flags', 'query-comment', 'restrict-access',
  'source-paths', 'data-paths', 'modules-path', 'quoting', 'analyses',
];
/** dbt project keys for features kiln does not have: a warning that they are ignored. */
const UNSUPPORTED_PROJECT_KEYS = ['on-run-start', 'on-run-end', 'exposures', 'metrics', 'semantic-models', 'saved-queries', 'unit_tests'];
const TARGET_KEYS = ['engine', 'path', 'url', 'host', 'port', 'username', 'user', 'password', 'database',
  'raw_database', 'settings', 'threads', 'cluster', 'secure', 'replicated', 'zookeeper_path', 'replica_name', 'sharding_key'];

export interface LoadProjectOptions {
  readonly projectDir?: string;
  readonly target?: string;
  /** `--vars`, already parsed; overrides project vars. */
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where project.yml is read from; the disk under projectDir unless given. */
  readonly files?: ProjectFiles;
  /** `--strict`: unknown keys and test arguments are errors. */
  readonly strict?: boolean;
  /** `--profiles-dir`: where dbt's profiles.yml is (else DBT_PROFILES_DIR, the project folder, ~/.dbt). */
  readonly profilesDir?: string;
}

/** A loaded project: its config, the selected target (rendered) and what to warn about. */
export interface Project {
  readonly root: string;
  readonly config: ProjectConfig;
  readonly target: TargetConfig;
  /** The root project's var scope (its nodes', and the project files'). */
  readonly scope: VarScope;
  /** Each package's var scope, by package name: what `var()` sees in its files (see varScopeOf). */
  readonly packageScopes: ReadonlyMap<string, VarScope>;
  readonly warnings: readonly Warning[];
  /** Installed and `local:` packages (packages.yml), whose nodes and macros compile with the project's. */
  readonly packages: readonly PackageProject[];
  /**
   * Set when unknown keys and test arguments are errors, to what made it so (`--strict`,
   * `strict: true` in project.yml, `CI=true`); undefined when they are warnings.
   */
  readonly strict?: string;
}

export function loadProject(opts: LoadProjectOptions = {}): Project {
  const root = opts.files?.root ?? resolve(opts.projectDir ?? process.cwd());
  const files = opts.files ?? diskProjectFiles(root);
  // kiln's own file first; a dbt project is read as it is.
  const projectFile = files.exists(PROJECT_FILE) ? PROJECT_FILE : files.exists(DBT_PROJECT_FILE) ? DBT_PROJECT_FILE : undefined;
  if (!projectFile) {
    throw new KilnError('PROJECT_NOT_FOUND', `no ${PROJECT_FILE} or ${DBT_PROJECT_FILE} in ${root}`, {
      hint: 'run kiln from a project folder, pass --project-dir, or create one with `kiln init`',
    });
  }
  const yaml = parseYaml(files.read(projectFile), projectFile);
  const warnings: Warning[] = [];
  const env = opts.env ?? process.env;
  const config = parseProjectConfig(yaml, warnings, { vars: opts.vars ?? {}, env });
  const packages = loadPackages(files, config.name, { vars: config.vars, env }, parseProjectFile);
  const { scope, packageScopes } = varScopes(config, packages, opts.vars ?? {}, env);
  // kiln's own targets win; a dbt project's profile gives them otherwise (only when it names one).
  const hasTargets = Object.keys(config.rawTargets).length > 0;
  const profiles = !hasTargets && config.profile ? findProfiles(files, config.profile, { ...(opts.profilesDir ? { profilesDir: opts.profilesDir } : {}), env }) : undefined;
  const targetName = opts.target ?? env.KILN_TARGET ?? (profiles && !yamlHas(yaml, 'target') ? profiles.defaultTarget : config.defaultTarget);
  const target = resolveTarget(root, config, targetName, scope, yaml, profiles, warnings);
  checkOtherTargets(config, targetName, yaml, warnings);
  const strict = strictnessOf(opts.strict === true, config.strict, env.CI);
  return { root, config, target, scope, packageScopes, warnings, packages, ...(strict ? { strict } : {}) };
}

/** The built-in embedded target's database: the profile's default output's schema, so models land where they would on the server. */
function embeddedDatabase(profiles: ProfileTargets | undefined, scope: VarScope): string {
  const output = profiles?.outputs[profiles.defaultTarget];
  if (!isPlainObject(output) || output.schema === undefined) return 'analytics';
  try {
    const schema = String(renderYamlValue(output.schema, scope, { file: profiles!.file }));
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(schema) ? schema : 'analytics';
  } catch {
    return 'analytics';
  }
}

/** Parses a project file's text (a package's dbt_project.yml) as the root's is parsed. */
export function parseProjectFile(text: string, file: string, warnings: Warning[], scope?: VarScope): ProjectConfig {
  return parseProjectConfig(parseYaml(text, file), warnings, scope);
}


/**
 * `--strict` always; else project.yml's `strict:` when set (`strict: false` keeps a project's
 * warnings warnings even in CI); else CI=true (set by GitHub Actions, GitLab CI and most others),
 * so a typo in a key fails the pipeline instead of switching a check off there.
 */
function strictnessOf(flag: boolean, configured: boolean | undefined, ci: string | undefined): string | undefined {
  if (flag) return '--strict';
  if (configured !== undefined) return configured ? 'strict: true in project.yml' : undefined;
  const v = ci?.trim().toLowerCase();
  return v === 'true' || v === '1' ? `CI=${ci}` : undefined;
}

/** The selected target's keys are checked as it is resolved; the others' only warn (their env vars may be unset here). */
function checkOtherTargets(config: ProjectConfig, selected: string, yaml: YamlFile, warnings: Warning[]): void {
  for (const [name, raw] of Object.entries(config.rawTargets)) {
    if (name === selected || !isPlainObject(raw)) continue;
    for (const key of Object.keys(raw)) {
      if (!TARGET_KEYS.includes(key)) warnings.push(unknownKeyWarning(key, `target '${name}'`, TARGET_KEYS, { file: yaml.file, line: yaml.keyLineOf(['targets', name, key]) }));
    }
  }
}

function parseProjectConfig(yaml: YamlFile, warnings: Warning[], scope?: VarScope): ProjectConfig {
  const raw = yaml.data;
  const at = (...path: string[]) => ({ file: yaml.file, line: yaml.lineOf(path) });
  if (!isPlainObject(raw)) {
    throw new KilnError('CONFIG_INVALID', `${yaml.file} must be a mapping of keys`, { location: at() });
  }
  for (const key of Object.keys(raw)) {
    const location = { file: yaml.file, line: yaml.keyLineOf([key]) };
    if (UNSUPPORTED_PROJECT_KEYS.includes(key)) {
      warnings.push({ message: `project key '${key}' is not supported by kiln (ignored)`, location });
    } else if (!PROJECT_KEYS.includes(key)) {
      const hint = didYouMean(key, PROJECT_KEYS);
      warnings.push({ message: `unknown project key '${key}' (ignored)`, location, ...(hint ? { hint } : {}), unknownKey: true });
    }
  }
  if (raw.strict !== undefined && typeof raw.strict !== 'boolean') {
    throw new KilnError('CONFIG_INVALID', `'strict' must be true or false`, { location: at('strict') });
  }
  if (typeof raw.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.name)) {
    throw new KilnError('CONFIG_INVALID', `project 'name' must be an identifier (letters, digits, _)`, {
      location: at('name'),
    });
  }
  const paths = (key: string, fallback: string): string[] => {
    const v = raw[key];
    if (v === undefined) return [fallback];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    throw new KilnError('CONFIG_INVALID', `'${key}' must be a list of folders`, { location: at(key) });
  };
  const vars = raw.vars ?? {};
  if (!isPlainObject(vars)) throw new KilnError('CONFIG_INVALID', `'vars' must be a mapping`, { location: at('vars') });
  const keyAt = (section: string) => (folders: readonly string[], key?: string) => ({ file: yaml.file, line: yaml.keyLineOf([section, ...folders, ...(key === undefined ? [] : [key])]) });
  // Config values may use var()/env_var(), as dbt renders dbt_project.yml; --vars win over the file's.
  const renderScope: VarScope | undefined = scope ? { vars: { ...vars, ...scope.vars }, env: scope.env } : undefined;
  const render = renderScope ? (value: unknown, where: SourceLocation) => renderYamlValue(value, renderScope, where) : undefined;
  const targets = raw.targets ?? {};
  if (!isPlainObject(targets)) {
    throw new KilnError('CONFIG_INVALID', `'targets' must be a mapping of target names`, { location: at('targets') });
  }
  const targetNames = Object.keys(targets);
  const defaultTarget =
    typeof raw.target === 'string' ? raw.target : targetNames.includes('dev') ? 'dev' : (targetNames[0] ?? 'dev');
  return {
    name: raw.name,
    version: typeof raw.version === 'number' || typeof raw.version === 'string' ? raw.version : 1,
    // dbt before 1.0 spelled them source-paths and data-paths.
    modelPaths: raw['model-paths'] === undefined && raw['source-paths'] !== undefined ? paths('source-paths', 'models') : paths('model-paths', 'models'),
    snapshotPaths: paths('snapshot-paths', 'snapshots'),
    seedPaths: raw['seed-paths'] === undefined && raw['data-paths'] !== undefined ? paths('data-paths', 'seeds') : paths('seed-paths', 'seeds'),
    macroPaths: paths('macro-paths', 'macros'),
    // dbt's default is tests/ (singular tests and tests/generic); kiln's own layout keeps tests/data.
    testPaths: paths('test-paths', yaml.file.endsWith('dbt_project.yml') ? 'tests' : 'tests/data'),
    docsPaths: raw['docs-paths'] !== undefined ? paths('docs-paths', 'docs') : [...new Set([...paths('model-paths', 'models'), ...paths('seed-paths', 'seeds'), ...paths('macro-paths', 'macros'), ...paths('test-paths', 'tests'), ...paths('snapshot-paths', 'snapshots'), ...paths('analysis-paths', 'analyses')])],
    targetPath: typeof raw['target-path'] === 'string' ? raw['target-path'] : 'target',
    vars,
    models: parseFolderConfig(raw.models, at('models'), warnings, keyAt('models'), [], render),
    seeds: parseFolderConfig(raw.seeds, at('seeds'), warnings, keyAt('seeds'), [], render),
    snapshots: parseFolderConfig(raw.snapshots, at('snapshots'), warnings, keyAt('snapshots'), [], render),
    tests: parseFolderConfig(raw.data_tests ?? raw.tests, at('tests'), warnings, keyAt(raw.data_tests !== undefined ? 'data_tests' : 'tests'), [], render),
    defaultTarget,
    rawTargets: targets as ProjectConfig['rawTargets'],
    ...(typeof raw.profile === 'string' ? { profile: raw.profile } : {}),
    ...(typeof raw.strict === 'boolean' ? { strict: raw.strict } : {}),
    ...(raw.dispatch !== undefined ? { dispatch: parseDispatch(raw.dispatch, at('dispatch')) } : {}),
  };
}

/** `dispatch: [{macro_namespace, search_order: [package, …]}]`, as dbt reads it. */
function parseDispatch(raw: unknown, location: SourceLocation): ProjectConfig['dispatch'] {
  const hint = "write dispatch: [{macro_namespace: dbt_utils, search_order: ['my_project', 'dbt_utils']}]";
  if (!Array.isArray(raw)) throw new KilnError('CONFIG_INVALID', `'dispatch' must be a list`, { location, hint });
  return raw.map((entry: unknown) => {
    const e = entry as { macro_namespace?: unknown; search_order?: unknown } | null;
    if (!e || typeof e.macro_namespace !== 'string' || !Array.isArray(e.search_order) || !e.search_order.every((p) => typeof p === 'string')) {
      throw new KilnError('CONFIG_INVALID', `each 'dispatch' entry needs macro_namespace (a name) and search_order (a list of package names)`, { location, hint });
    }
    return { macro_namespace: e.macro_namespace, search_order: e.search_order as string[] };
  });
}


function yamlHas(yaml: YamlFile, key: string): boolean {
  return isPlainObject(yaml.data) && yaml.data[key] !== undefined;
}

/** The built-in target every project has: the embedded engine, data in `.kiln/embedded/`. */
export const EMBEDDED_TARGET = 'embedded';

function resolveTarget(root: string, config: ProjectConfig, name: string, scope: VarScope, yaml: YamlFile, profiles: ProfileTargets | undefined, warnings: Warning[]): TargetConfig {
  const names = Object.keys(config.rawTargets);
  let raw: unknown = config.rawTargets[name];
  let where: SourceLocation = { file: yaml.file, line: yaml.lineOf(['targets', name]) };
  if (raw === undefined && profiles && names.length === 0 && (name !== EMBEDDED_TARGET || profiles.outputs[name] !== undefined)) {
    raw = targetOfProfileOutput(profiles, name, scope, warnings);
    where = { file: profiles.file, line: profiles.yaml.lineOf([profiles.profile, 'outputs', name]) };
  }
  if (raw === undefined) {
    if (name === EMBEDDED_TARGET) return { name, engine: 'embedded', path: resolve(root, '.kiln/embedded'), database: embeddedDatabase(profiles, scope), raw_database: 'raw' };
    // A project without targets gets an embedded dev warehouse, so `kiln init` stays two lines.
    if (names.length === 0 && name === 'dev') {
      return { name, engine: 'embedded', path: resolve(root, '.kiln/dev'), database: 'analytics', raw_database: 'raw' };
    }
    throw new KilnError('TARGET_INVALID', `unknown target '${name}'`, {
      location: { file: yaml.file, line: yaml.lineOf(['targets']) },
      hint: didYouMean(name, [...names, EMBEDDED_TARGET]) ?? `targets defined: ${[...names, EMBEDDED_TARGET].join(', ')}`,
    });
  }
  if (!isPlainObject(raw)) throw new KilnError('TARGET_INVALID', `target '${name}' must be a mapping`, { location: where });
  const r = renderYamlValue(raw, scope, where) as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!TARGET_KEYS.includes(key)) {
      throw new KilnError('TARGET_INVALID', `unknown key '${key}' in target '${name}'`, {
        location: where,
        hint: didYouMean(key, TARGET_KEYS) ?? `valid keys: ${TARGET_KEYS.join(', ')}`,
      });
    }
  }
  const engine = (r.engine ?? 'embedded') as EngineKind;
  if (engine !== 'embedded' && engine !== 'clickhouse') {
    throw new KilnError('TARGET_INVALID', `target '${name}' has unknown engine '${String(r.engine)}'`, {
      location: where,
      hint: `engine is 'embedded' (in-process chdb) or 'clickhouse' (a server over HTTP)`,
    });
  }
  const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
  const database = str(r.database) ?? 'analytics';
  const rawDatabase = str(r.raw_database) ?? 'raw';
  for (const [key, db] of [['database', database], ['raw_database', rawDatabase]] as const) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(db)) {
      throw new KilnError('TARGET_INVALID', `target '${name}' ${key} '${db}' is not a valid database name`, { location: where });
    }
  }
  const base = {
    name,
    engine,
    database,
    raw_database: rawDatabase,
    ...(isPlainObject(r.settings) ? { settings: r.settings as TargetConfig['settings'] } : {}),
    ...(r.threads !== undefined ? { threads: Number(r.threads) } : {}),
    ...(str(r.cluster) ? { cluster: str(r.cluster) } : {}),
    ...clusterKeys(name, r, where),
  };
  if (engine === 'embedded') {
    const path = str(r.path) ?? `.kiln/${name}`;
    return { ...base, path: isAbsolute(path) ? path : resolve(root, path) };
  }
  let url = str(r.url);
  if (!url && str(r.host)) {
    const secure = r.secure === true;
    url = `${secure ? 'https' : 'http'}://${str(r.host)}:${str(r.port) ?? (secure ? '8443' : '8123')}`;
  }
  if (!url) {
    throw new KilnError('TARGET_INVALID', `target '${name}' (engine clickhouse) needs a url`, {
      location: where,
      hint: `set url: "{{ env_var('CLICKHOUSE_URL') }}" and export CLICKHOUSE_URL=http://host:8123`,
    });
  }
  return {
    ...base,
    url,
    username: str(r.username) ?? str(r.user) ?? 'default',
    password: str(r.password) ?? '',
  };
}

/** A target's replication keys, checked: `replicated` a boolean, a `zookeeper_path` that makes each table's path its own. */
function clusterKeys(name: string, r: Readonly<Record<string, unknown>>, where: SourceLocation | undefined): Partial<TargetConfig> {
  const out: { replicated?: boolean; zookeeper_path?: string; replica_name?: string; sharding_key?: string } = {};
  if (r.replicated !== undefined && r.replicated !== null) {
    if (typeof r.replicated !== 'boolean') {
      throw new KilnError('TARGET_INVALID', `target '${name}' replicated must be true or false, not '${String(r.replicated)}'`, {
        location: where,
        hint: 'replicated: false keeps plain MergeTree tables on each node of the cluster',
      });
    }
    out.replicated = r.replicated;
  }
  for (const key of ['zookeeper_path', 'replica_name', 'sharding_key'] as const) {
    const v = r[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new KilnError('TARGET_INVALID', `target '${name}' ${key} must be a string`, { location: where });
    out[key] = v;
  }
  if (out.zookeeper_path !== undefined && !out.zookeeper_path.includes('{uuid}')) {
    throw new KilnError('TARGET_INVALID', `target '${name}' zookeeper_path '${out.zookeeper_path}' has no {uuid}`, {
      location: where,
      hint: "kiln builds a table under a scratch name and renames it into place; the rebuild needs a path of its own: end the path with /{uuid} (e.g. '/clickhouse/tables/{database}/{table}/{uuid}')",
    });
  }
  return out;
}
