import { basename, join } from 'node:path';
import type { Diagnostics } from '../diagnostics.js';
import { formatLocation, KilnError, type SourceLocation, type Warning } from '../errors.js';
import { didYouMean } from './closest.js';
import type { Project } from './load-project.js';
import { folderConfigFor, isPlainObject, mergeConfigs, normalizeConfig, typedRendering } from './node-config.js';
import {
  uniqueIds,
  type MacroFile,
  type ModelNode,
  type ParsedProject,
  type SeedNode,
  type SingularTestFile,
  type SourceNode,
  type UnitTestSpec,
  type WholeDatabaseSource,
} from './nodes.js';
import type { ColumnSpec, FolderConfig, NodeConfig, ProjectConfig } from './types.js';
import type { ProjectFiles } from './project-files.js';
import { parseYaml, type YamlFile } from './yaml-file.js';
import { checkKeys, PROPERTIES_SHAPE } from './yaml-keys.js';
import { checkSourceEnums, SOURCE_LOADERS } from './source-enums.js';
import { renderYamlValue, type VarScope } from './yaml-strings.js';
import { varScopeOf } from './var-scopes.js';
import { packageOfFile } from './package-of-file.js';
import { sha256 } from './checksums.js';
import { readDocsBlocks, renderDocCalls, type DocsBlock } from './docs-blocks.js';
import { splitCsvLine } from './csv-line.js';
import { relationSnapshotCode, SNAPSHOT_RELATION, snapshotBlocks } from './snapshot-blocks.js';

export const SOURCES_FILE = 'sources.yml';

interface PropertyEntry {
  readonly raw: Record<string, unknown>;
  readonly yaml: YamlFile;
  readonly path: Array<string | number>;
}

/**
 * Reads every model, seed, macro, properties and test file of a project through `files`. Problems
 * go to `diagnostics` and reading goes on, so one compile reports all of them; what could not be
 * read is left out of the result.
 */
export function readProject(project: Project, files: ProjectFiles, diagnostics: Diagnostics): ParsedProject {
  const { config } = project;
  // The root project first, then its packages: a node name is claimed by the first to define it.
  const owners: Owner[] = [
    { name: config.name, config, folderConfig: (tree, segments) => folderConfigFor(tree(config), segments, config.name) },
    ...project.packages.map((p): Owner => ({
      name: p.name,
      config: p.config,
      package: p.name,
      // The package's own folder configs, then the root's `models: { <package>: {...} }` over them, as in dbt.
      folderConfig: (tree, segments) => mergeConfigs(folderConfigFor(tree(p.config), segments, p.name), packageFolderConfig(tree(config), p.name, segments)),
    })),
  ];

  const docs = readDocsBlocks(files, owners.flatMap((o) => o.config.docsPaths), diagnostics);
  const yamlFiles = owners.flatMap((o) => files.list([...o.config.modelPaths, ...(o.package ? [] : o.config.snapshotPaths), ...o.config.seedPaths], ['.yml', '.yaml']));
  const modelProps = new Map<string, PropertyEntry>();
  const seedProps = new Map<string, PropertyEntry>();
  const snapshotProps = new Map<string, PropertyEntry>();
  const sourceEntries: PropertyEntry[] = [];
  const unitTests: UnitTestSpec[] = [];
  const propertyFiles = new Map<string, YamlFile>();

  if (files.exists(SOURCES_FILE)) yamlFiles.unshift({ path: SOURCES_FILE, base: '' });
  for (const { path } of yamlFiles) {
    diagnostics.capture(() => {
      const yaml = readYaml(files, path);
      propertyFiles.set(path, yaml);
      collectProperties(yaml, { models: modelProps, seeds: seedProps, snapshots: snapshotProps, sources: sourceEntries, unitTests }, diagnostics);
    });
  }

  const models: ModelNode[] = [];
  const seen = new Map<string, string>();
  const claim = (name: string, path: string, kind: string) => {
    const prior = seen.get(name);
    if (prior !== undefined) {
      diagnostics.error(
        new KilnError('DUPLICATE_NODE', `two nodes are named '${name}': ${prior} and ${path}`, {
          location: { file: path },
          hint: `node names are file names and must be unique across models and seeds; rename one ${kind}`,
        }),
      );
      return false;
    }
    seen.set(name, path);
    return true;
  };

  const seeds: SeedNode[] = [];
  const macros: MacroFile[] = [];
  const singularTests: SingularTestFile[] = [];
  for (const owner of owners) {
    const modelFiles = files.list(owner.config.modelPaths, ['.sql']);
    for (const { path, base } of modelFiles) {
      const name = basename(path, '.sql');
      if (!claim(name, path, 'model')) continue;
      const segments = foldersBelow(base, path);
      const props = modelProps.get(name);
      modelProps.delete(name);
      const common = nodeProperties(props, diagnostics, docs, varScopeOf(project, props?.yaml.file ?? ''));
      models.push({
        resourceType: 'model',
        uniqueId: uniqueIds.model(owner.name, name),
        name,
        originalFilePath: path,
        fqn: [owner.name, ...segments, name],
        rawCode: files.read(path),
        // Listed, not spread: V8 builds a spread of this many fields slowly, and 10k models pay it.
        description: common.description,
        columns: common.columns,
        dataTests: common.dataTests,
        meta: common.meta,
        ...(common.patch ? { patch: common.patch } : {}),
        ...(owner.package ? { packageName: owner.package } : {}),
        // dbt's config tree ends at the node's own name too (`models: { shop: { orders: {...} } }`).
        config: mergeConfigs(owner.folderConfig((c) => c.models, [...segments, name]), common.config),
      });
    }

    const seedFiles = files.list(owner.config.seedPaths, ['.csv']);
    for (const { path, base } of seedFiles) {
      const name = basename(path, '.csv');
      if (!claim(name, path, 'seed')) continue;
      const segments = foldersBelow(base, path);
      const props = seedProps.get(name);
      seedProps.delete(name);
      const common = nodeProperties(props, diagnostics, docs, varScopeOf(project, props?.yaml.file ?? ''));
      const seedConfig = mergeConfigs(owner.folderConfig((c) => c.seeds, [...segments, name]), common.config, { materialized: 'seed' });
      const bytes = files.readBytes(path);
      seeds.push({
        resourceType: 'seed',
        uniqueId: uniqueIds.seed(owner.name, name),
        name,
        originalFilePath: path,
        fqn: [owner.name, ...segments, name],
        absPath: join(files.root, path),
        checksum: sha256(bytes),
        header: csvHeader(bytes, typeof seedConfig.delimiter === 'string' ? seedConfig.delimiter : ','),
        ...common,
        ...(owner.package ? { packageName: owner.package } : {}),
        config: seedConfig,
      });
    }

    if (!owner.package) {
      // Folder configs naming a package configure that package's nodes, not a folder of this project's.
      const packageNames = new Set(project.packages.map((p) => p.name));
      checkFolderConfigs(config.models, modelFiles, config.name, 'models', diagnostics.warnings, packageNames);
      checkFolderConfigs(config.seeds, seedFiles, config.name, 'seeds', diagnostics.warnings, packageNames);
    }

    const macroBases = new Set(owner.config.macroPaths.map((p) => p.replace(/\/+$/, '')));
    for (const { path, base } of files.list([...owner.config.macroPaths, ...owner.config.testPaths], ['.sql'])) {
      const text = files.read(path);
      if (macroBases.has(base) || isTestMacroFile(text)) macros.push({ path, source: text, ...(owner.package ? { package: owner.package } : {}) });
      // A package's singular tests test the package (dbt runs them too); kiln leaves them to the package's authors.
      else if (!owner.package) singularTests.push({ name: basename(path, '.sql'), path, rawCode: text, fqn: [config.name, ...foldersBelow(base, path), basename(path, '.sql')] });
    }
  }

  // The root project's snapshots (a package's are left to its authors, like its singular tests).
  readSnapshots(project, files, snapshotProps, claim, models, diagnostics, docs);

  for (const [kind, leftovers, names] of [
    ['model', modelProps, models.map((m) => m.name)],
    ['seed', seedProps, seeds.map((s) => s.name)],
  ] as const) {
    for (const [name, entry] of leftovers) {
      const hint = didYouMean(name, names);
      diagnostics.warn({
        message: `properties declared for ${kind} '${name}', but there is no such ${kind} file`,
        location: { file: entry.yaml.file, line: entry.yaml.lineOf(entry.path) },
        ...(hint ? { hint } : {}),
      });
    }
  }

  const { sources, wholeDatabaseSources } = readSources(project, sourceEntries, diagnostics, docs);
  return { models, seeds, sources, wholeDatabaseSources, macros, singularTests, unitTests, propertyFiles };
}

type DocsBlocks = ReadonlyMap<string, DocsBlock>;

/** A description as dbt renders it: `{{ doc('name') }}` replaced by its docs block; an unknown name is reported at the description's line. */
function describe(raw: unknown, yaml: YamlFile, path: Array<string | number>, docs: DocsBlocks, diagnostics: Diagnostics): string {
  if (typeof raw !== 'string') return '';
  return diagnostics.capture(() => renderDocCalls(raw, docs, { file: yaml.file, line: yaml.lineOf(path) })) ?? raw;
}

/** The root project or one of its packages: whose files are read, and how folder configs apply to them. */
interface Owner {
  readonly name: string;
  readonly config: ProjectConfig;
  /** Set for a package. */
  readonly package?: string;
  readonly folderConfig: (tree: (c: ProjectConfig) => FolderConfig, segments: readonly string[]) => NodeConfig;
}

/** The root's folder config for a package's node: its top level, then `<package>:` and the folders below. */
function packageFolderConfig(tree: FolderConfig, packageName: string, segments: readonly string[]): NodeConfig {
  const chain: NodeConfig[] = [tree.config];
  let cur = tree.children.get(packageName);
  for (let i = 0; cur && i <= segments.length; i++) {
    chain.push(cur.config);
    cur = i < segments.length ? cur.children.get(segments[i]!) : undefined;
  }
  return mergeConfigs(...chain);
}

/**
 * Snapshots: each `{% snapshot name %}` block of the .sql files in snapshot paths, and each
 * `snapshots:` properties entry with a `relation:` (dbt 1.9). They are models whose
 * materialization is `snapshot`, with `snapshot.<project>.<name>` ids.
 */
function readSnapshots(
  project: Project,
  files: ProjectFiles,
  props: Map<string, PropertyEntry>,
  claim: (name: string, path: string, kind: string) => boolean,
  models: ModelNode[],
  diagnostics: Diagnostics,
  docs: DocsBlocks,
): void {
  const { config } = project;
  const snapshot = (name: string, path: string, rawCode: string, segments: readonly string[], entry: PropertyEntry | undefined) => {
    const common = nodeProperties(entry, diagnostics, docs, varScopeOf(project, entry?.yaml.file ?? ''));
    models.push({
      resourceType: 'snapshot',
      uniqueId: uniqueIds.snapshot(config.name, name),
      name,
      originalFilePath: path,
      fqn: [config.name, ...segments, name],
      rawCode,
      description: common.description,
      columns: common.columns,
      dataTests: common.dataTests,
      meta: common.meta,
      ...(common.patch ? { patch: common.patch } : {}),
      config: mergeConfigs(folderConfigFor(config.snapshots, segments, config.name), common.config, { materialized: 'snapshot' }),
    });
  };
  for (const { path, base } of files.list(config.snapshotPaths, ['.sql'])) {
    const blocks = diagnostics.capture(() => snapshotBlocks(files.read(path), path));
    for (const block of blocks ?? []) {
      if (!claim(block.name, path, 'snapshot')) continue;
      const entry = props.get(block.name);
      props.delete(block.name);
      snapshot(block.name, path, block.code, foldersBelow(base, path), entry);
    }
  }
  for (const [name, entry] of props) {
    const where: SourceLocation = { file: entry.yaml.file, line: entry.yaml.lineOf(entry.path) };
    const relation = entry.raw.relation;
    if (relation === undefined) {
      diagnostics.warn({ message: `properties declared for snapshot '${name}', but it has no relation: and no {% snapshot %} block`, location: where, hint: "add relation: ref('model') or source('src', 'table')" });
      continue;
    }
    if (typeof relation !== 'string' || !SNAPSHOT_RELATION.test(relation)) {
      diagnostics.error(new KilnError('CONFIG_INVALID', `snapshot '${name}': relation must be ref('…') or source('…', '…')`, {
        location: { file: entry.yaml.file, line: entry.yaml.lineOf([...entry.path, 'relation']) ?? where.line },
        hint: "relation: source('app', 'users')",
      }));
      continue;
    }
    if (!claim(name, entry.yaml.file, 'snapshot')) continue;
    const base = config.snapshotPaths.find((p) => entry.yaml.file.startsWith(`${p.replace(/\/+$/, '')}/`));
    snapshot(name, entry.yaml.file, relationSnapshotCode(relation), base === undefined ? [] : foldersBelow(base.replace(/\/+$/, ''), entry.yaml.file), entry);
  }
}

/**
 * A folder config (`models: { stagin: {...} }` in project.yml) that names no folder holding a
 * model (or seed) applies to nothing: most likely a misspelled folder, so an unknown key.
 */
function checkFolderConfigs(tree: FolderConfig, listed: ReadonlyArray<{ path: string; base: string }>, projectName: string, kind: 'models' | 'seeds', warnings: Warning[], packageNames: ReadonlySet<string>): void {
  const folders = new Set<string>();
  for (const { path, base } of listed) {
    // A node's own name ends a config path as a folder does.
    const segments = [...foldersBelow(base, path), basename(path).replace(/\.[^.]+$/, '')];
    for (let n = 1; n <= segments.length; n++) folders.add(segments.slice(0, n).join('/'));
  }
  const walk = (node: FolderConfig, prefix: string, top: boolean) => {
    for (const [name, child] of node.children) {
      if (top && name === projectName) {
        walk(child, '', false); // dbt nests folder configs under the project name
        continue;
      }
      if (top && packageNames.has(name)) continue;
      const path = prefix ? `${prefix}/${name}` : name;
      if (folders.has(path)) {
        walk(child, path, false);
        continue;
      }
      const siblings = [...folders].filter((f) => f.startsWith(prefix ? `${prefix}/` : '') && !f.slice(prefix ? prefix.length + 1 : 0).includes('/')).map((f) => f.slice(prefix ? prefix.length + 1 : 0));
      const hint = didYouMean(name, siblings);
      warnings.push({
        message: `folder config '${path}' under ${kind}: applies to nothing: no folder of ${kind} is named so (ignored)`,
        ...(child.location ? { location: child.location } : {}),
        ...(hint ? { hint } : {}),
        unknownKey: true,
      });
    }
  };
  walk(tree, '', true);
}

/** Test-path files that only define generic tests or macros are macro files, not singular tests. */
function isTestMacroFile(text: string): boolean {
  if (!/{%-?\s*(test|macro)\s+\w+\s*\(/.test(text)) return false;
  // A query outside every definition makes it a singular test; one inside a test's body does not.
  const outside = text.replace(/{%-?\s*(test|macro)\s[\s\S]*?{%-?\s*end(test|macro)\s*-?%}/g, '').replace(/{%[\s\S]*?%}/g, '');
  return !/^\s*(select|with)\b/im.test(outside);
}

/** A file's folders below the resource folder it was found in: where its folder configs come from. */
function foldersBelow(base: string, path: string): string[] {
  const inside = base === '' ? path : path.slice(base.length + 1);
  return inside.split('/').slice(0, -1);
}

function readYaml(files: ProjectFiles, path: string): YamlFile {
  let text: string;
  try {
    text = files.read(path);
  } catch (err) {
    throw new KilnError('PROJECT_NOT_FOUND', `cannot read ${path}: ${(err as Error).message}`, { location: { file: path } });
  }
  return parseYaml(text, path);
}

/**
 * A seed's columns are its CSV header: known at compile time, so a test on a missing column is
 * an error before anything runs. (A model's columns are known only to ClickHouse.)
 */
function csvHeader(bytes: Buffer, delimiter: string): string[] {
  const head = bytes.subarray(0, 64 * 1024).toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  return splitCsvLine(head, delimiter).map((c) => c.trim());
}

interface PropertySinks {
  models: Map<string, PropertyEntry>;
  seeds: Map<string, PropertyEntry>;
  snapshots: Map<string, PropertyEntry>;
  sources: PropertyEntry[];
  unitTests: UnitTestSpec[];
}

function collectProperties(yaml: YamlFile, sinks: PropertySinks, diagnostics: Diagnostics): void {
  const data = yaml.data;
  if (data === null || data === undefined) return;
  if (!isPlainObject(data)) {
    diagnostics.error(new KilnError('CONFIG_INVALID', 'a properties file must be a mapping', { location: { file: yaml.file, line: 1 } }));
    return;
  }
  checkKeys(yaml, [], data, PROPERTIES_SHAPE, diagnostics.warnings);
  const list = (key: string): Array<{ raw: Record<string, unknown>; path: Array<string | number> }> => {
    const v = data[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      diagnostics.error(new KilnError('CONFIG_INVALID', `'${key}' must be a list`, { location: { file: yaml.file, line: yaml.lineOf([key]) } }));
      return [];
    }
    return v.flatMap((raw, i) => {
      if (!isPlainObject(raw) || typeof raw.name !== 'string') {
        diagnostics.error(new KilnError('CONFIG_INVALID', `each entry of '${key}' needs a name`, { location: { file: yaml.file, line: yaml.lineOf([key, i]) } }));
        return [];
      }
      return [{ raw, path: [key, i] }];
    });
  };
  for (const [key, sink] of [['models', sinks.models], ['seeds', sinks.seeds], ['snapshots', sinks.snapshots]] as const) {
    for (const { raw, path } of list(key)) {
      const name = raw.name as string;
      const prior = sink.get(name);
      if (prior) {
        diagnostics.error(new KilnError('DUPLICATE_NODE', `properties for ${key.slice(0, -1)} '${name}' are declared twice (also in ${formatLocation({ file: prior.yaml.file, line: prior.yaml.lineOf(prior.path) ?? 1 })})`, { location: { file: yaml.file, line: yaml.lineOf(path) } }));
        continue;
      }
      sink.set(name, { raw, yaml, path });
    }
  }
  for (const { raw, path } of list('sources')) sinks.sources.push({ raw, yaml, path });
  for (const { raw, path } of list('unit_tests')) {
    sinks.unitTests.push({
      name: raw.name as string,
      model: String(raw.model ?? ''),
      raw,
      location: { file: yaml.file, line: yaml.lineOf(path) },
    });
  }
}

interface CommonProperties {
  description: string;
  columns: ColumnSpec[];
  dataTests: unknown[];
  meta: Record<string, unknown>;
  config: NodeConfig;
  patch?: SourceLocation;
}

function nodeProperties(entry: PropertyEntry | undefined, diagnostics: Diagnostics, docs: DocsBlocks, scope: VarScope): CommonProperties {
  if (!entry) return { description: '', columns: [], dataTests: [], meta: {}, config: {} };
  const { raw, yaml, path } = entry;
  const where: SourceLocation = { file: yaml.file, line: yaml.lineOf(path) };
  const config: NodeConfig =
    diagnostics.capture(() => {
      const rawConfig = raw.config ?? {};
      if (!isPlainObject(rawConfig)) throw new KilnError('CONFIG_INVALID', `'config' must be a mapping`, { location: where });
      const merged: Record<string, unknown> = { ...rawConfig, ...(raw.tags !== undefined ? { tags: raw.tags } : {}) };
      // Values may use var()/env_var() (`enabled: "{{ var('x', false) }}"`), rendered as dbt renders them, each at its key's line.
      for (const [key, value] of Object.entries(merged)) {
        if (typeof value === 'string' && value.includes('{{')) {
          merged[key] = typedRendering(renderYamlValue(value, scope, { file: yaml.file, line: yaml.keyLineOf([...path, key in rawConfig ? 'config' : key, ...(key in rawConfig ? [key] : [])]) }));
        }
      }
      return normalizeConfig(merged, where, diagnostics.warnings);
    }) ?? {};
  return {
    description: describe(raw.description, yaml, [...path, 'description'], docs, diagnostics),
    columns: readColumns(raw.columns, yaml, [...path, 'columns'], diagnostics, docs),
    dataTests: testsOf(raw),
    meta: isPlainObject(raw.meta) ? raw.meta : isPlainObject(config.meta) ? (config.meta as Record<string, unknown>) : {},
    config,
    patch: where,
  };
}

function testsOf(raw: Record<string, unknown>): unknown[] {
  const t = raw.data_tests ?? raw.tests;
  return Array.isArray(t) ? t : [];
}

function readColumns(raw: unknown, yaml: YamlFile, path: Array<string | number>, diagnostics: Diagnostics, docs: DocsBlocks): ColumnSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    diagnostics.error(new KilnError('CONFIG_INVALID', `'columns' must be a list`, { location: { file: yaml.file, line: yaml.lineOf(path) } }));
    return [];
  }
  return raw.flatMap((c, i) => {
    if (!isPlainObject(c) || typeof c.name !== 'string') {
      diagnostics.error(new KilnError('CONFIG_INVALID', 'each column needs a name', { location: { file: yaml.file, line: yaml.lineOf([...path, i]) } }));
      return [];
    }
    return [{
      name: c.name,
      description: describe(c.description, yaml, [...path, i, 'description'], docs, diagnostics),
      ...(typeof c.data_type === 'string' ? { data_type: c.data_type } : typeof c.type === 'string' ? { data_type: c.type } : {}),
      data_tests: testsOf(c),
      ...(isPlainObject(c.meta) ? { meta: c.meta } : {}),
      ...(typeof c.quote === 'boolean' ? { quote: c.quote } : {}),
      ...(c.constraints !== undefined && c.constraints !== null ? { constraints: Array.isArray(c.constraints) ? c.constraints : [c.constraints] } : {}),
      ...(typeof c.codec === 'string' ? { codec: c.codec } : {}),
      ...(typeof c.ttl === 'string' ? { ttl: c.ttl } : {}),
    }];
  });
}

const SOURCE_NODE_KEYS = new Set(['name', 'tables', 'description', 'columns', 'data_tests', 'tests', 'meta', 'config', 'tags']);

function readSources(
  project: Project,
  entries: readonly PropertyEntry[],
  diagnostics: Diagnostics,
  docs: DocsBlocks,
): { sources: SourceNode[]; wholeDatabaseSources: WholeDatabaseSource[] } {
  const out: SourceNode[] = [];
  const whole: WholeDatabaseSource[] = [];
  const byIdentifier = new Map<string, string>();
  const declaredAt = new Map<string, SourceLocation>();
  for (const { raw, yaml, path } of entries) {
    const sourceName = raw.name as string;
    const where: SourceLocation = { file: yaml.file, line: yaml.lineOf(path) };
    const tables = raw.tables;
    checkSourceEnums(yaml, path, raw, `source '${sourceName}'`, diagnostics);
    const sourceOptions = Object.fromEntries(Object.entries(raw).filter(([k]) => !SOURCE_NODE_KEYS.has(k)));
    // A whole-database source owns its name: tables of another entry of that name would be ambiguous.
    const prior = declaredAt.get(sourceName);
    declaredAt.set(sourceName, where);
    if (prior && (tables === undefined || whole.some((w) => w.sourceName === sourceName))) {
      diagnostics.error(
        new KilnError('DUPLICATE_NODE', `source '${sourceName}' is declared twice (also at ${formatLocation({ line: 1, ...prior })})`, {
          location: where,
          hint: 'a source without tables: loads every table of its database: declare it once, or rename one',
        }),
      );
      continue;
    }
    if (tables === undefined) {
      const w = diagnostics.capture(() => wholeDatabaseSource(project, sourceName, sourceOptions, { raw, yaml, path }, diagnostics, docs));
      if (w) whole.push(w);
      continue;
    }
    if (!Array.isArray(tables)) {
      diagnostics.error(new KilnError('CONFIG_INVALID', `source '${sourceName}' needs a 'tables' list`, { location: where, hint: TABLES_HINT }));
      continue;
    }
    tables.forEach((t: unknown, i: number) => {
      const tpath = [...path, 'tables', i];
      const twhere: SourceLocation = { file: yaml.file, line: yaml.lineOf(tpath) };
      if (!isPlainObject(t) || typeof t.name !== 'string') {
        diagnostics.error(new KilnError('CONFIG_INVALID', `each table of source '${sourceName}' needs a name`, { location: twhere }));
        return;
      }
      const tableName = t.name;
      checkSourceEnums(yaml, tpath, t, `source ${sourceName}.${tableName}`, diagnostics);
      diagnostics.capture(() => {
        const tableOptions = Object.fromEntries(Object.entries(t).filter(([k]) => !SOURCE_NODE_KEYS.has(k)));
        // Strings may use var()/env_var(): render them now so stage/ sees final paths and hosts.
        const options = renderYamlValue({ ...sourceOptions, ...tableOptions }, varScopeOf(project, yaml.file), twhere) as Record<string, unknown>;
        // A table kiln stages is named <source>__<table> in the raw database; one someone else
        // fills is dbt's <schema>.<identifier> (schema defaults to the source's name, identifier to the table's).
        const staged = isStagingLoader(options.loader);
        const identifier = typeof t.identifier === 'string' ? t.identifier : staged ? `${sourceName}__${tableName}` : tableName;
        const database = staged ? undefined : unstagedDatabase(options, sourceName);
        if (staged) {
          const prior = byIdentifier.get(identifier);
          if (prior) {
            throw new KilnError('DUPLICATE_NODE', `source tables ${prior} and ${sourceName}.${tableName} would both load into ${project.target.raw_database}.${identifier}`, {
              location: twhere,
              hint: 'rename a source or a table, or set identifier: on one of them',
            });
          }
          byIdentifier.set(identifier, `${sourceName}.${tableName}`);
        }
        const props = nodeProperties({ raw: t, yaml, path: tpath }, diagnostics, docs, varScopeOf(project, yaml.file));
        // A package's source is its own, as in dbt: source.<package>.<source>.<table>.
        const owner = packageOfFile(project.packages, yaml.file)?.name;
        out.push({
          resourceType: 'source',
          uniqueId: uniqueIds.source(owner ?? project.config.name, sourceName, tableName),
          ...(owner ? { packageName: owner } : {}),
          name: tableName,
          sourceName,
          tableName: tableName,
          identifier,
          loader: staged ? (options.loader as string) : undefined,
          options: database === undefined ? options : { ...options, database },
          originalFilePath: yaml.file,
          fqn: [owner ?? project.config.name, sourceName, tableName],
          ...props,
          description: props.description || describe(raw.description, yaml, [...path, 'description'], docs, diagnostics),
        });
      });
    });
  }
  return { sources: out, wholeDatabaseSources: whole };
}

/** A `loader:` kiln stages with; any other value is dbt's descriptive `loader` (the tool that fills the table). */
function isStagingLoader(loader: unknown): boolean {
  return typeof loader === 'string' && (SOURCE_LOADERS as readonly string[]).includes(loader);
}

/** dbt's source `schema:` (a ClickHouse database), else `database:`, else the source's name. */
function unstagedDatabase(options: Readonly<Record<string, unknown>>, sourceName: string): string {
  for (const key of ['schema', 'database'] as const) if (typeof options[key] === 'string' && options[key]) return options[key] as string;
  return sourceName;
}

const TABLES_HINT = 'list its tables (tables: [{ name: ... }]); only a loader: mysql source may leave tables: out, to load every table of its database';

/** A source without `tables:`: valid for MySQL only, whose database says which tables there are. */
function wholeDatabaseSource(
  project: Project,
  sourceName: string,
  sourceOptions: Record<string, unknown>,
  entry: PropertyEntry,
  diagnostics: Diagnostics,
  docs: DocsBlocks,
): WholeDatabaseSource {
  const where: SourceLocation = { file: entry.yaml.file, line: entry.yaml.lineOf(entry.path) };
  const options = renderYamlValue(sourceOptions, project.scope, where) as Record<string, unknown>;
  if (options.loader !== 'mysql') {
    throw new KilnError('CONFIG_INVALID', `source '${sourceName}' needs a 'tables' list`, { location: where, hint: TABLES_HINT });
  }
  if (options.mysql_table !== undefined || options.identifier !== undefined) {
    throw new KilnError('CONFIG_INVALID', `source '${sourceName}': mysql_table and identifier name one table, and this source has no tables: list`, {
      location: where,
      hint: 'every table of the database loads into <source>__<table>; list the table under tables: to rename it',
    });
  }
  const props = nodeProperties(entry, diagnostics, docs, varScopeOf(project, entry?.yaml.file ?? ''));
  return {
    sourceName,
    options,
    originalFilePath: entry.yaml.file,
    patch: where,
    description: props.description,
    meta: props.meta,
    config: props.config,
  };
}
