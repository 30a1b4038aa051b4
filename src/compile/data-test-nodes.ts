import { testColumn, whereSubquery } from '../adapters/test-queries.js';
import { sha256, uniquePairs } from '../project/checksums.js';
import { posix } from 'node:path';
import type { Diagnostics } from '../diagnostics.js';
import { formatLocation, KilnError, type SourceLocation } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import type { Project } from '../project/load-project.js';
import { folderConfigFor, isPlainObject } from '../project/node-config.js';
import type { ModelNode, ParsedProject, SeedNode, SourceNode } from '../project/nodes.js';
import { sourceIdLookup, uniqueIds } from '../project/nodes.js';
import { packageOfFile } from '../project/package-of-file.js';
import type { NodeConfig } from '../project/types.js';
import { refPlaceholder } from '../template/placeholders.js';
import type { RenderOutput, TemplateEngine } from '../template/template-engine.js';
import type { RelationName } from '../template/dbt-context.js';
import { BUILTIN_TEST_NAMES } from './builtin-tests.js';
import type { TestManifestNode } from './manifest.js';
import { TEST_CONFIG_KEYS, testConfig } from './test-config.js';
import { synthesizeTestNames } from './test-names.js';
import { checkRequiredArguments, testSignatures, warnUnknownArguments, type TestSignature } from './test-signatures.js';
import { unknownKeyWarning } from '../project/yaml-keys.js';
import type { RenderedSql } from './sql-resolver.js';
import { sideStatementOutsideHook, TEST_DROP_HINT } from './hook-statements.js';
import type { TestRender } from './execution-manifest.js';
import { YamlLocator } from './yaml-locator.js';

/** What compiling tests needs from the model compile that ran before it. */
export interface TestCompileContext {
  readonly project: Project;
  readonly parsed: ParsedProject;
  readonly engine: TemplateEngine;
  /** Enabled models and seeds by name. */
  readonly refable: ReadonlyMap<string, { readonly uniqueId: string; readonly config: NodeConfig }>;
  readonly disabled: ReadonlySet<string>;
  /** Models that did not render: their error is reported, so a test's ref to one is not another. */
  readonly failed: ReadonlySet<string>;
  /** Rendered SQL → the manifest's compiled SQL (refs resolved, ephemerals as CTEs). */
  readonly resolve: (rendered: RenderedSql) => string;
  /** Where a model or seed lands (its database and table): `ref('x').schema` in a test answers it. */
  readonly relationOf: (name: string) => RelationName | undefined;
  readonly diagnostics: Diagnostics;
}

export interface CompiledDataTests {
  readonly nodes: Record<string, TestManifestNode>;
  /** Each test's failing-rows query before refs resolve, for execution on any target. */
  readonly rendered: Record<string, TestRender>;
}

type Target =
  | { readonly kind: 'model'; readonly node: ModelNode }
  | { readonly kind: 'seed'; readonly node: SeedNode }
  | { readonly kind: 'source'; readonly node: SourceNode };

type Rendered = TestRender;

const REF_OR_SOURCE = /^\s*(ref|source)\s*\(.*\)\s*$/s;

/** Generic tests from properties files and singular tests from test paths → manifest test nodes. */
export function compileDataTests(ctx: TestCompileContext): CompiledDataTests {
  const { project, parsed, engine } = ctx;
  const projectName = project.config.name;
  const targetPath = project.config.targetPath;
  const locator = new YamlLocator(parsed.propertyFiles);
  const { diagnostics } = ctx;
  const nodes: Record<string, TestManifestNode> = {};
  const rendered: Record<string, Rendered> = {};
  const testNames = new Set([...engine.macroNames].filter((n) => n.startsWith('test_')).map((n) => n.slice(5)));
  const signatures = testSignatures(parsed.macros);

  const add = (node: TestManifestNode, out: Rendered) => {
    const prior = nodes[node.unique_id];
    if (prior) {
      diagnostics.error(
        new KilnError('DUPLICATE_NODE', `two tests are named '${node.name}' (also declared at ${formatLocation({ file: prior.declared_at.file, line: prior.declared_at.line ?? 1 })})`, {
          location: { file: node.declared_at.file, ...(node.declared_at.line ? { line: node.declared_at.line } : {}) },
          hint: 'give one of them a distinct name: (e.g. `- unique: { name: my_unique_test }`)',
        }),
      );
      return;
    }
    nodes[node.unique_id] = node;
    rendered[node.unique_id] = out;
  };

  /** Checks every ref a test renders, and returns the graph ids it reads. */
  const sourceId = sourceIdLookup(parsed.sources, projectName);
  // A test a package's file declares is the package's: test.<package>.<name>, as in dbt.
  const ownerOf = (file: string) => packageOfFile(project.packages, file)?.name ?? projectName;
  const dependencies = (refs: readonly string[], sources: ReadonlyArray<readonly [string, string]>, where: SourceLocation, what: string): string[] => {
    const ids: string[] = [];
    for (const ref of new Set(refs)) {
      const hit = ctx.refable.get(ref);
      if (hit) {
        ids.push(hit.uniqueId);
        continue;
      }
      if (ctx.failed.has(ref)) continue;
      throw new KilnError('UNKNOWN_REF', ctx.disabled.has(ref) ? `${what}: ref('${ref}') points to a disabled model` : `${what}: unknown ref '${ref}'`, {
        location: where,
        hint: ctx.disabled.has(ref) ? `enable '${ref}' or remove the test` : didYouMean(ref, ctx.refable.keys()) ?? 'no model or seed has that name',
      });
    }
    // Declared or not (a table of a whole-database source), a source table's id follows from its name.
    for (const [s, t] of sources) ids.push(sourceId(s, t));
    return [...new Set(ids)];
  };

  const targets: Target[] = [
    ...parsed.models.filter((m) => ctx.refable.has(m.name)).map((node) => ({ kind: 'model' as const, node })),
    ...parsed.seeds.filter((s) => ctx.refable.has(s.name)).map((node) => ({ kind: 'seed' as const, node })),
    ...parsed.sources.map((node) => ({ kind: 'source' as const, node })),
  ];
  for (const target of targets) {
    const { node } = target;
    const declared: Array<{ raw: unknown; column: string | undefined; quote?: boolean; index: number }> = [
      ...node.dataTests.map((raw, index) => ({ raw, column: undefined, index })),
      ...node.columns.flatMap((c) => c.data_tests.map((raw, index) => ({ raw, column: c.name, ...(c.quote !== undefined ? { quote: c.quote } : {}), index }))),
    ];
    if (declared.length === 0) continue;
    const knownColumns = target.kind === 'seed' ? target.node.header : contractColumns(target);
    for (const d of declared) {
      const file = target.kind === 'source' ? node.originalFilePath : node.patch?.file ?? node.originalFilePath;
      const where: SourceLocation = { file, ...lineOf(locator, target, d.column, d.index) };
      // Where an argument or config key of this entry is written: `- t: { key: … }`, `- t: { arguments: { key: … } }`, `- { test_name: t, key: … }`.
      const locate = (section: 'arguments' | 'config', key: string): SourceLocation => {
        const raw = d.raw;
        if (!isPlainObject(raw)) return where;
        const name = typeof raw.test_name === 'string' ? undefined : Object.keys(raw)[0];
        const args = name === undefined ? raw : raw[name];
        const nested = isPlainObject(args) && (section === 'config' || (isPlainObject(args.arguments) && key in args.arguments));
        const path = [...(name === undefined ? [] : [name]), ...(nested ? [section] : []), key];
        return { file, ...lineOf(locator, target, d.column, d.index, path) };
      };
      diagnostics.capture(() => {
        const out = genericTest(ctx, target, d.raw, { name: d.column, quote: d.quote }, { where, locate }, { names: testNames, signatures }, knownColumns, dependencies);
        add(out.node(ownerOf(file), targetPath, fqnSegmentsFor(project, file)), out.rendered);
      });
    }
  }

  for (const file of parsed.singularTests) {
    const where: SourceLocation = { file: file.path };
    diagnostics.capture(() => {
      const out = engine.render({ name: file.name, file: file.path, code: file.rawCode, refRelation: ctx.relationOf });
      // A test only reads; were the drop ignored, the test would pass or fail on a table that stays.
      if (out.statements?.length) throw sideStatementOutsideHook(`test '${file.name}'`, where, TEST_DROP_HINT);
      const deps = dependencies(out.refs, out.sources, { file: file.path, line: 1 }, `test '${file.name}'`);
      const config = testConfig([folderConfigFor(project.config.tests, file.fqn.slice(1, -1), projectName), out.config], where);
      if (!config.enabled) return;
      const sqlRefs = [...new Set(out.refs)];
      const alias = config.alias ?? file.name;
      add(
        {
          ...testNodeBase(ownerOf(file.path), uniqueIds.test(ownerOf(file.path), file.name), file.name, alias, file.path, file.fqn, config),
          database: `${project.target.database}_test_failures`,
          schema: `${project.target.database}_test_failures`,
          raw_code: file.rawCode,
          compiled_code: ctx.resolve({ sql: out.sql, refs: sqlRefs }),
          compiled_path: `${targetPath}/compiled/${file.path}`,
          checksum: { name: 'sha256', checksum: sha256(file.rawCode) },
          refs: sqlRefs.map((name) => ({ name })),
          sources: out.sources,
          depends_on: { nodes: deps, macros: [] },
          column_name: null,
          attached_node: null,
          file_key_name: null,
          declared_at: { file: file.path, line: 1 },
        },
        out.introspective ? { sql: out.sql, refs: sqlRefs, rerender: { code: file.rawCode } } : { sql: out.sql, refs: sqlRefs },
      );
    });
  }

  return { nodes, rendered };
}

interface GenericTest {
  readonly rendered: Rendered;
  node(projectName: string, targetPath: string, folders: readonly string[]): TestManifestNode;
}

function genericTest(
  ctx: TestCompileContext,
  target: Target,
  raw: unknown,
  columnSpec: { readonly name: string | undefined; readonly quote: boolean | undefined },
  at: { readonly where: SourceLocation; readonly locate: (section: 'arguments' | 'config', key: string) => SourceLocation },
  tests: { readonly names: ReadonlySet<string>; readonly signatures: ReadonlyMap<string, TestSignature> },
  knownColumns: readonly string[] | undefined,
  dependencies: (refs: readonly string[], sources: ReadonlyArray<readonly [string, string]>, where: SourceLocation, what: string) => string[],
): GenericTest {
  const { project, engine } = ctx;
  const { where } = at;
  const column = columnSpec.name;
  const testNames = tests.names;
  const { testName, args } = splitTestEntry(raw, where);
  const [namespace, bare] = testName.includes('.') ? (testName.split('.', 2) as [string, string]) : [null, testName];
  if (!testNames.has(bare)) {
    const all = [...testNames].sort();
    throw new KilnError('UNKNOWN_MACRO', `unknown generic test '${testName}'${column ? ` on column '${column}'` : ''} of ${target.kind} '${targetLabel(target)}'`, {
      location: where,
      hint: didYouMean(bare, all) ?? `generic tests: ${all.join(', ')}; define your own with {% test ${bare}(model, column_name) %}`,
    });
  }

  const own: Record<string, unknown> = {};
  const kwargs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key === 'config' || key === 'description') continue;
    // dbt 1.10 nests a test's arguments under `arguments:`.
    if (key === 'arguments' && isPlainObject(value)) Object.assign(kwargs, value);
    else if (TEST_CONFIG_KEYS.includes(key)) own[key] = value;
    else kwargs[key] = value;
  }
  if (args.config !== undefined && !isPlainObject(args.config)) {
    throw new KilnError('CONFIG_INVALID', `'config' of test '${testName}' must be a mapping`, { location: where });
  }
  for (const key of Object.keys(args.config ?? {})) {
    if (!TEST_CONFIG_KEYS.includes(key.replace(/^\+/, '').replace(/-/g, '_'))) {
      ctx.diagnostics.warn(unknownKeyWarning(key, `the config of test '${testName}'`, TEST_CONFIG_KEYS, at.locate('config', key)));
    }
  }
  Object.assign(own, args.config ?? {});
  const customName = typeof kwargs.name === 'string' ? kwargs.name : undefined;
  delete kwargs.name;
  if (column !== undefined) kwargs.column_name = column;
  const columnName = typeof kwargs.column_name === 'string' ? kwargs.column_name : null;
  const signature = tests.signatures.get(bare);
  if (signature) warnUnknownArguments(signature, kwargs, testName, (key) => at.locate('arguments', key), ctx.diagnostics.warnings);
  if (!signature || signature.builtin) checkArguments(bare, kwargs, where, testName);
  if (signature) checkRequiredArguments(signature, kwargs, testName, where);
  if (columnName && knownColumns && !knownColumns.includes(columnName)) {
    throw new KilnError('CONFIG_INVALID', `test '${testName}' is on column '${columnName}', which ${target.kind} '${targetLabel(target)}' does not have`, {
      location: where,
      hint: didYouMean(columnName, knownColumns) ?? `its columns: ${knownColumns.join(', ')}`,
    });
  }

  const testType = `${target.kind === 'source' ? 'source_' : ''}${namespace ? `${namespace}_` : ''}${bare}`;
  const targetName = target.kind === 'source' ? `${target.node.sourceName}_${target.node.tableName}` : target.node.name;
  const names = customName ? { full: customName, short: customName } : synthesizeTestNames(testType, targetName, kwargs);
  const what = `test '${names.full}'`;

  const folders = fqnSegmentsFor(project, where.file);
  const folderConfig = folderConfigFor(project.config.tests, folders, project.config.name);
  let config = testConfig([folderConfig, own], where);

  // The tested relation: a ref placeholder (resolved like a model's refs) or the source's relation.
  const refs: string[] = [];
  const sources: Array<readonly [string, string]> = [];
  let relation: string;
  if (target.kind === 'source') {
    const out = engine.render({ name: names.full, file: where.file, code: `{{ source('${target.node.sourceName}', '${target.node.tableName}') }}` });
    relation = out.sql;
    sources.push([target.node.sourceName, target.node.tableName]);
  } else {
    relation = refPlaceholder(target.node.name);
    refs.push(target.node.name);
  }
  if (config.where) {
    const condition = config.where.includes('{') ? renderPart(ctx, names.full, where, config.where, refs, sources) : config.where;
    relation = whereSubquery(relation, condition);
  }
  // Arguments written as ref('x') / source('a', 'b') become relations, like dbt's `to:`.
  const macroArgs: Record<string, unknown> = { ...kwargs, model: relation };
  // A column's name goes into kiln's own tests as an identifier (see testColumn), into a project's
  // tests as written (dbt) unless quote: true. A `column_name:` argument is dbt's expression slot: as written.
  if (columnName !== null && column !== undefined) macroArgs.column_name = signature?.builtin || columnSpec.quote === true ? testColumn(columnName, columnSpec.quote) : columnName;
  if (signature?.builtin && bare === 'relationships' && typeof kwargs.field === 'string') macroArgs.field = testColumn(kwargs.field, undefined);
  for (const [key, value] of Object.entries(kwargs)) {
    if (typeof value === 'string' && REF_OR_SOURCE.test(value)) macroArgs[key] = renderPart(ctx, names.full, where, `{{ ${value} }}`, refs, sources);
  }
  let out: RenderOutput;
  const macroName = namespace && engine.macroNamespaces.get(namespace)?.[`test_${bare}`] ? `${namespace}.test_${bare}` : `test_${bare}`;
  try {
    out = engine.callMacro(macroName, { name: names.full, file: where.file, refRelation: ctx.relationOf }, macroArgs);
  } catch (err) {
    if (err instanceof KilnError) throw new KilnError(err.code, `${what}: ${err.message}`, { location: where, ...(err.hint ? { hint: err.hint } : {}) });
    throw err;
  }
  // config() in the test's macro (dbt_utils' fail_calc) sets defaults that the YAML entry's config overrides.
  if (Object.keys(out.config).length) config = testConfig([folderConfig, out.config, own], where);
  refs.push(...out.refs);
  sources.push(...out.sources);
  const deps = dependencies(refs, sources, where, what);
  const attached = target.node.uniqueId;
  const sqlRefs = [...new Set(refs)];
  const rendered: Rendered = out.introspective ? { sql: out.sql, refs: sqlRefs, rerender: { macro: macroName, args: macroArgs } } : { sql: out.sql, refs: sqlRefs };
  const rawCode = `{{ test_${bare}(**_dbt_generic_test_kwargs) }}`;

  return {
    rendered,
    node(projectName, targetPath, fqnFolders) {
      const alias = config.alias ?? names.short;
      return {
        ...testNodeBase(projectName, uniqueIds.test(projectName, names.full), names.full, alias, where.file, [projectName, ...fqnFolders, names.full], config),
        database: `${project.target.database}_test_failures`,
        schema: `${project.target.database}_test_failures`,
        raw_code: rawCode,
        compiled_code: ctx.resolve(rendered),
        compiled_path: `${targetPath}/compiled/${where.file}/${alias}.sql`,
        checksum: { name: 'sha256', checksum: sha256(JSON.stringify([testName, args, column ?? null])) },
        refs: sqlRefs.map((name) => ({ name })),
        sources: uniquePairs(sources),
        depends_on: { nodes: deps.includes(attached) ? deps : [attached, ...deps], macros: [`macro.${BUILTIN_TEST_NAMES.includes(bare) ? 'kiln' : projectName}.test_${bare}`] },
        column_name: columnName,
        attached_node: attached,
        file_key_name: `${target.kind === 'source' ? 'sources' : `${target.kind}s`}.${target.kind === 'source' ? target.node.sourceName : target.node.name}`,
        test_metadata: { name: bare, kwargs: { ...kwargs, model: modelArgText(target) }, namespace },
        declared_at: { file: where.file, line: where.line ?? null },
      };
    },
  };
}

/** `unique` | `{unique: {...}}` | `{test_name: unique, ...}` → name and arguments (dbt's three spellings). */
export function splitTestEntry(raw: unknown, where: SourceLocation): { testName: string; args: Record<string, unknown> } {
  if (typeof raw === 'string') return { testName: raw.trim(), args: {} };
  if (isPlainObject(raw)) {
    if (typeof raw.test_name === 'string') {
      const { test_name: testName, ...args } = raw;
      return { testName: testName as string, args };
    }
    const keys = Object.keys(raw);
    if (keys.length === 1) {
      const args = raw[keys[0]!];
      if (args === null || args === undefined) return { testName: keys[0]!, args: {} };
      if (isPlainObject(args)) return { testName: keys[0]!, args: { ...args } };
      throw new KilnError('CONFIG_INVALID', `the arguments of test '${keys[0]}' must be a mapping`, {
        location: where,
        hint: `write it like - ${keys[0]}: { arg: value }`,
      });
    }
  }
  throw new KilnError('CONFIG_INVALID', `cannot read this test entry: ${JSON.stringify(raw)}`, {
    location: where,
    hint: 'a test is a name (- unique) or a mapping with one key (- accepted_values: { values: [a, b] })',
  });
}

const COLUMN_TESTS = new Set(['not_null', 'unique', 'accepted_values', 'relationships', 'accepted_range']);

function checkArguments(test: string, kwargs: Record<string, unknown>, where: SourceLocation, label: string): void {
  const need = (ok: boolean, message: string, hint: string) => {
    if (!ok) throw new KilnError('CONFIG_INVALID', `test '${label}' ${message}`, { location: where, hint });
  };
  if (COLUMN_TESTS.has(test)) need(typeof kwargs.column_name === 'string', 'needs a column', `declare it under a column's data_tests, or pass column_name:`);
  if (test === 'accepted_values') {
    need(Array.isArray(kwargs.values) && kwargs.values.length > 0, 'needs a non-empty values list', 'accepted_values: { values: [a, b] }');
  }
  if (test === 'relationships') {
    need(typeof kwargs.to === 'string' && REF_OR_SOURCE.test(kwargs.to), "needs to: ref('model') or to: source('src', 'table')", "relationships: { to: ref('dim_content'), field: content_id }");
    need(typeof kwargs.field === 'string', 'needs field: (the column of the referenced model)', "relationships: { to: ref('dim_content'), field: content_id }");
  }
  if (test === 'accepted_range') {
    need(kwargs.min_value !== undefined || kwargs.max_value !== undefined, 'needs min_value and/or max_value', 'accepted_range: { min_value: 0, max_value: 10 }');
  }
  if (test === 'expression_is_true') need(typeof kwargs.expression === 'string', 'needs an expression', "expression_is_true: { expression: 'rating >= 0' }");
}

/** Renders a Jinja fragment of a test (a `where`, a `to:`) and collects the refs and sources it uses. */
function renderPart(ctx: TestCompileContext, name: string, where: SourceLocation, code: string, refs: string[], sources: Array<readonly [string, string]>): string {
  try {
    const out = ctx.engine.render({ name, file: where.file, code, refRelation: ctx.relationOf });
    refs.push(...out.refs);
    sources.push(...out.sources);
    return out.sql;
  } catch (err) {
    if (err instanceof KilnError) throw new KilnError(err.code, `test '${name}': ${err.message}`, { location: where, ...(err.hint ? { hint: err.hint } : {}) });
    throw err;
  }
}

function testNodeBase(projectName: string, uniqueId: string, name: string, alias: string, file: string, fqn: readonly string[], config: NodeConfig) {
  return {
    unique_id: uniqueId,
    resource_type: 'test' as const,
    name,
    alias,
    package_name: projectName,
    original_file_path: file,
    path: file,
    fqn,
    description: '',
    columns: {},
    tags: (config.tags as string[] | undefined) ?? [],
    meta: (config.meta as Record<string, unknown> | undefined) ?? {},
    config,
    patch_path: null,
    language: 'sql' as const,
    compiled: true as const,
  };
}

/** The line of a test entry, or with `key` (a path inside the entry) the line of that key. */
function lineOf(locator: YamlLocator, target: Target, column: string | undefined, index: number, key?: ReadonlyArray<string>): { line?: number } {
  const file = target.kind === 'source' ? target.node.originalFilePath : target.node.patch?.file;
  if (!file) return {};
  let line: number | undefined;
  const inEntry = (path: Array<string | number>) => (key ? [...path, ...key] : path);
  if (target.kind === 'source') {
    const data = locator.sourceTable(file, target.node.sourceName, target.node.tableName);
    line = locator.lineInSourceTable(file, target.node.sourceName, target.node.tableName, inEntry(YamlLocator.testPath(data, column, index)), key !== undefined);
  } else {
    const list = target.kind === 'model' ? 'models' : 'seeds';
    const data = locator.entry(file, list, target.node.name);
    line = locator.lineInEntry(file, list, target.node.name, inEntry(YamlLocator.testPath(data, column, index)), key !== undefined);
  }
  return line === undefined ? (target.node.patch?.line ? { line: target.node.patch.line } : {}) : { line };
}

/** Folders of a properties file below its resource path: where folder configs for its tests apply. */
function fqnSegmentsFor(project: Project, file: string): string[] {
  const { modelPaths, seedPaths } = project.config;
  for (const base of [...modelPaths, ...seedPaths]) {
    const prefix = `${base.replace(/\/+$/, '')}/`;
    if (file.startsWith(prefix)) return posix.dirname(file.slice(prefix.length)).split('/').filter((s) => s && s !== '.');
  }
  return [];
}

function targetLabel(target: Target): string {
  return target.kind === 'source' ? `${target.node.sourceName}.${target.node.tableName}` : target.node.name;
}

function modelArgText(target: Target): string {
  return target.kind === 'source'
    ? `{{ get_where_subquery(source('${target.node.sourceName}', '${target.node.tableName}')) }}`
    : `{{ get_where_subquery(ref('${target.node.name}')) }}`;
}

/** Models with an enforced contract declare their exact columns. */
function contractColumns(target: Target): string[] | undefined {
  if (target.kind !== 'model') return undefined;
  const contract = target.node.config.contract;
  return isPlainObject(contract) && contract.enforced === true ? target.node.columns.map((c) => c.name) : undefined;
}
