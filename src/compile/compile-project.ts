import { sha256, uniquePairs } from './checksums.js';
import { readFileSync } from 'node:fs';
import { qualifiedName, quoteIdentifier } from '../adapters/quoting.js';
import { KilnError, throwAll, type Warning } from '../errors.js';
import { Dag } from '../graph/dag.js';
import { didYouMean } from '../project/closest.js';
import type { Project } from '../project/load-project.js';
import { mergeConfigs, normalizeConfig } from '../project/node-config.js';
import { sourceDatabase, uniqueIds, wholeDatabaseTable, type ModelNode, type ParsedProject, type SeedNode, type SourceNode, type WholeDatabaseSource } from '../project/nodes.js';
import { readProject } from '../project/read-project.js';
import type { ColumnSpec, NodeConfig } from '../project/types.js';
import { resolvePlaceholders } from '../template/placeholders.js';
import type { CompiledTemplateCache } from '../template/template-cache.js';
import { sourceRelationsOf, TemplateEngine, type RenderOutput } from '../template/template-engine.js';
import { BUILTIN_TESTS_FILE } from './builtin-tests.js';
import { injectCtes } from '../adapters/ephemeral-sql.js';
import { compileDataTests, type CompiledDataTests } from './data-test-nodes.js';
import { compileUnitTests } from './unit-test-nodes.js';
import type {
  Manifest,
  ManifestColumn,
  ManifestNode,
  ModelManifestNode,
  SeedManifestNode,
  SourceManifestNode,
} from './manifest.js';

export const KILN_VERSION = '0.1.0';

export type EphemeralStyle = import('../adapters/capabilities.js').EphemeralStyle;

export interface CompileOptions {
  readonly invocationId: string;
  readonly runStartedAt: Date;
  /** nunjucks' generated code kept between runs (see template/template-cache.ts). */
  readonly templateCache?: CompiledTemplateCache;
}

/** The result of compiling: the serializable manifest plus what execution needs to re-render. */
export interface CompiledProject {
  readonly project: Project;
  readonly parsed: ParsedProject;
  readonly manifest: Manifest;
  readonly dag: Dag;
  readonly engine: TemplateEngine;
  readonly warnings: readonly Warning[];
  /** Re-renders a model (e.g. with is_incremental() true) and resolves its refs like compile did. */
  renderModel(uniqueId: string, opts: { isIncremental: boolean; vars?: Record<string, unknown>; ephemerals?: EphemeralStyle }): string;
  /** Resolves ref placeholders (and inlines ephemerals) in SQL rendered outside compile, e.g. tests. */
  resolveSql(sql: string, refs: readonly string[], ephemerals?: EphemeralStyle): string;
  /** Data tests' failing-rows SQL, per ephemeral style. */
  readonly dataTests: Pick<CompiledDataTests, 'sql'>;
}

/** One model file as compile rendered it; kept in the CompiledProject so a recompile can reuse it. */
export interface RenderedModel {
  readonly node: ModelNode;
  readonly output: RenderOutput;
  readonly config: NodeConfig;
  readonly enabled: boolean;
  /** From normalizing its config() calls. */
  readonly configWarnings: readonly Warning[];
  /** From rendering it (exceptions.warn). */
  readonly renderWarnings: readonly Warning[];
}

/**
 * What a compile keeps besides its result, for `recompileProject`: every model's render (in file
 * order, disabled ones included) and the warnings that did not come from a model.
 */
export interface CompileState {
  readonly renders: readonly RenderedModel[];
  /** The project's and the parser's warnings. */
  readonly parseWarnings: readonly Warning[];
  /** The template engine's own warnings (macros defined twice), before any model rendered. */
  readonly macroWarnings: readonly Warning[];
  readonly macroIndex: MacroIndex;
  /** Indexes into `renders` of the models whose output read the time or the invocation id. */
  readonly volatile: readonly number[];
}

/** A compile's state, for recompileProject; absent on a CompiledProject built some other way. */
export const compileStateOf = new WeakMap<CompiledProject, CompileState>();

const NO_WARNINGS: readonly Warning[] = Object.freeze([]);

/** Project files → rendered models → graph → manifest. Touches no database. */
export function compileProject(project: Project, opts: CompileOptions): CompiledProject {
  const parseWarnings: Warning[] = [...project.warnings];
  const parsed = readProject(project, parseWarnings);
  const engine = createTemplateEngine(project, parsed, opts);
  const macroWarnings = [...engine.warnings];
  const errors: KilnError[] = [];
  const renders: RenderedModel[] = [];
  for (const node of parsed.models) {
    try {
      renders.push(renderModelFile(engine, node));
    } catch (err) {
      if (err instanceof KilnError) errors.push(err);
      else throw err;
    }
  }
  return linkProject({ project, parsed, engine, opts, parseWarnings, macroWarnings, renders, renderErrors: errors });
}

/** The template engine of one compile: kiln's context, the project's sources and macros. */
export function createTemplateEngine(project: Project, parsed: ParsedProject, opts: CompileOptions): TemplateEngine {
  const { config: projectConfig, target } = project;
  const sourceRelations = new Map<string, Map<string, string>>();
  for (const s of parsed.sources) {
    if (!sourceRelations.has(s.sourceName)) sourceRelations.set(s.sourceName, new Map());
    sourceRelations.get(s.sourceName)!.set(s.tableName, qualifiedName(sourceDatabase(s, target.raw_database), s.identifier));
  }
  // A whole-database source has every table its database has: only staging knows which those are.
  const whole = new Map(parsed.wholeDatabaseSources.map((w) => [w.sourceName, w]));
  const wholeTable = (source: string, table: string) => {
    const w = whole.get(source);
    if (!w) return undefined;
    const node = wholeDatabaseTable(projectConfig.name, w, table);
    return qualifiedName(sourceDatabase(node, target.raw_database), node.identifier);
  };
  return new TemplateEngine({
    projectName: projectConfig.name,
    scope: project.scope,
    target: { name: target.name, engine: target.engine, database: target.database, raw_database: target.raw_database },
    runStartedAt: opts.runStartedAt,
    invocationId: opts.invocationId,
    sources: sourceRelationsOf(sourceRelations, wholeTable),
    // Built-ins first, so a project's own generic test of the same name overrides one.
    macros: [BUILTIN_TESTS_FILE, ...parsed.macros],
    ...(opts.templateCache ? { templateCache: opts.templateCache } : {}),
  });
}

/**
 * The project's source nodes: the declared tables, plus one node for each table of a
 * whole-database source that a model or test reads (sorted, so manifests are reproducible).
 */
function sourceNodesRead(parsed: ParsedProject, projectName: string, rawDatabase: string, read: Iterable<readonly [string, string]>): SourceNode[] {
  const whole = new Map(parsed.wholeDatabaseSources.map((w) => [w.sourceName, w]));
  // A recompile's parsed project already holds the previous compile's nodes: start from the declared ones.
  const declared = parsed.sources.filter((s) => !whole.has(s.sourceName));
  const rawName = (s: SourceNode) => `${sourceDatabase(s, rawDatabase)}.${s.identifier}`;
  const loadsInto = new Map(declared.map((s) => [rawName(s), `${s.sourceName}.${s.tableName}`]));
  const tables = new Map<string, SourceNode>();
  for (const [s, t] of read) {
    const w = whole.get(s);
    if (!w || tables.has(`${s}.${t}`)) continue;
    const node = wholeDatabaseTable(projectName, w, t);
    const prior = loadsInto.get(rawName(node));
    if (prior) {
      throw new KilnError('DUPLICATE_NODE', `source tables ${prior} and ${s}.${t} would both load into ${rawName(node)}`, {
        location: w.patch,
        hint: 'rename a source or a table, or set identifier: on the declared one',
      });
    }
    tables.set(`${s}.${t}`, node);
  }
  return [...declared, ...[...tables.values()].sort((a, b) => (a.uniqueId < b.uniqueId ? -1 : a.uniqueId > b.uniqueId ? 1 : 0))];
}

const scratchWarnings: Warning[] = [];

/** Renders one model file and merges its config; throws the template's KilnError. */
export function renderModelFile(engine: TemplateEngine, node: ModelNode): RenderedModel {
  const before = engine.warnings.length;
  const output = engine.render({ name: node.name, file: node.originalFilePath, code: node.rawCode });
  scratchWarnings.length = 0;
  const inline = normalizeConfig(output.config, { file: node.originalFilePath }, scratchWarnings);
  const config = mergeConfigs({ materialized: 'view' }, node.config, inline);
  return {
    node,
    output,
    config,
    enabled: config.enabled !== false,
    configWarnings: scratchWarnings.length ? scratchWarnings.splice(0) : NO_WARNINGS,
    renderWarnings: engine.warnings.length > before ? engine.warnings.slice(before) : NO_WARNINGS,
  };
}

export interface LinkInput {
  readonly project: Project;
  readonly parsed: ParsedProject;
  readonly engine: TemplateEngine;
  readonly opts: CompileOptions;
  readonly parseWarnings: readonly Warning[];
  readonly macroWarnings: readonly Warning[];
  /** Every model that rendered, in file order. */
  readonly renders: readonly RenderedModel[];
  readonly renderErrors: readonly KilnError[];
  /** A recompile: the previous compile, whose manifest nodes outside `dirty` are kept as they are. */
  readonly reuse?: {
    readonly previous: CompiledProject;
    readonly state: CompileState;
    /** Names of the models rendered again (their refs are checked again). */
    readonly changed: ReadonlySet<string>;
    /** Names of the models whose manifest node is built again. */
    readonly dirty: ReadonlySet<string>;
    /** Models whose dependencies may differ from the previous compile's. */
    readonly depsChanged: ReadonlySet<string>;
  };
}

/** Rendered models → refs checked → graph → relations and ephemerals resolved → manifest. */
export function linkProject(input: LinkInput): CompiledProject {
  const { project, parsed, engine, opts, renders, reuse } = input;
  const { config: projectConfig, target } = project;
  const previousManifest = reuse?.previous.manifest;
  const warnings: Warning[] = [...input.parseWarnings];
  const errors: KilnError[] = [...input.renderErrors];

  const rendered = new Map<string, RenderedModel>();
  const disabled = new Set<string>();
  for (const r of renders) {
    if (r.configWarnings.length) warnings.push(...r.configWarnings);
    if (r.enabled) rendered.set(r.node.name, r);
    else disabled.add(r.node.name);
  }
  warnings.push(...input.macroWarnings);
  for (const r of renders) if (r.renderWarnings.length) warnings.push(...r.renderWarnings);
  const seeds = new Map(parsed.seeds.filter((s) => s.config.enabled !== false).map((s) => [s.name, s]));

  // A recompile that rendered everything it changed checks only those: the others' refs were valid and still are.
  const checked = reuse && errors.length === 0 ? [...reuse.changed].flatMap((n) => rendered.get(n) ?? []) : rendered.values();
  for (const { node, output } of checked) {
    for (const ref of new Set(output.refs)) {
      if (rendered.has(ref) || seeds.has(ref)) continue;
      const line = lineOfCall(node.rawCode, 'ref', ref);
      const refable = [...rendered.keys(), ...seeds.keys()];
      errors.push(
        new KilnError('UNKNOWN_REF', disabled.has(ref) ? `ref('${ref}') points to a disabled model` : `unknown ref '${ref}'`, {
          location: { file: node.originalFilePath, ...(line ? { line } : {}) },
          hint: disabled.has(ref) ? `enable '${ref}' or remove the ref` : didYouMean(ref, refable) ?? 'no model or seed has that name',
        }),
      );
    }
  }
  throwAll(errors);

  const relationOf = (name: string): { database: string; alias: string } => {
    const cfg = rendered.get(name)?.config ?? seeds.get(name)?.config ?? {};
    const database = (cfg.database as string | undefined) ?? (cfg.schema as string | undefined) ?? target.database;
    return { database, alias: (cfg.alias as string | undefined) ?? name };
  };
  const isEphemeral = (name: string) => rendered.get(name)?.config.materialized === 'ephemeral';
  const cteName = (name: string) => quoteIdentifier(`__kiln_cte__${name}`);
  const resolveRef = (name: string) => {
    if (isEphemeral(name)) return cteName(name);
    const r = relationOf(name);
    return qualifiedName(r.database, r.alias);
  };

  /** Ephemeral models reachable through ephemeral-only chains, dependencies first. */
  const ephemeralChain = (refs: readonly string[], seen = new Set<string>()): string[] => {
    const out: string[] = [];
    for (const ref of refs) {
      if (!isEphemeral(ref) || seen.has(ref)) continue;
      seen.add(ref);
      out.push(...ephemeralChain(rendered.get(ref)!.output.refs, seen), ref);
    }
    return out;
  };
  // Servers without CTEs (18.16) get ephemerals inlined as subqueries instead.
  const resolveRefInline = (name: string): string =>
    isEphemeral(name) ? `(\n${resolvePlaceholders(rendered.get(name)!.output.sql, resolveRefInline).trim()}\n)` : resolveRef(name);
  const finishSql = (sql: string, refs: readonly string[], style: EphemeralStyle = 'cte'): string => {
    if (style === 'subquery') return resolvePlaceholders(sql, resolveRefInline);
    const body = resolvePlaceholders(sql, resolveRef);
    const chain = ephemeralChain(refs);
    if (chain.length === 0) return body;
    const ctes = chain.map((name) => ({
      name: cteName(name),
      sql: resolvePlaceholders(rendered.get(name)!.output.sql, resolveRef).trim(),
    }));
    return injectCtes(body, ctes);
  };

  // Tests compile before the graph: a table of a whole-database source that only a test reads is a node too.
  const refable = new Map<string, { uniqueId: string; config: NodeConfig }>();
  for (const r of rendered.values()) refable.set(r.node.name, { uniqueId: r.node.uniqueId, config: r.config });
  for (const s of seeds.values()) refable.set(s.name, { uniqueId: s.uniqueId, config: s.config });
  const testCtx = { project, parsed, engine, warnings, disabled, resolveSql: finishSql, refable };
  const dataTests = compileDataTests(testCtx);
  const unitTests = compileUnitTests(testCtx);
  throwAll([...dataTests.errors, ...unitTests.errors]);
  const sources = parsed.wholeDatabaseSources.length ? sourceNodesRead(parsed, projectConfig.name, target.raw_database, [
    ...[...rendered.values()].flatMap((r) => r.output.sources),
    ...Object.values(dataTests.nodes).flatMap((t) => t.sources),
  ]) : parsed.sources;

  const idOf = (name: string) => rendered.get(name)?.node.uniqueId ?? seeds.get(name)!.uniqueId;
  const dependsOn = (r: RenderedModel): string[] => {
    const out = new Set<string>();
    for (const n of r.output.refs) if (n !== r.node.name || !rendered.has(n)) out.add(idOf(n));
    for (const [s, t] of r.output.sources) out.add(uniqueIds.source(projectConfig.name, s, t));
    return [...out];
  };
  // A model's dependencies, computed once: the graph and its manifest node share them.
  const deps = new Map<string, readonly string[]>();
  const depsOf = (r: RenderedModel): readonly string[] => {
    let d = deps.get(r.node.name);
    if (d === undefined) {
      d = reuse && !reuse.depsChanged.has(r.node.name) ? previousManifest!.nodes[r.node.uniqueId]?.depends_on.nodes : undefined;
      deps.set(r.node.name, (d ??= dependsOn(r)));
    }
    return d;
  };
  let dag: Dag;
  if (reuse && reuse.depsChanged.size === 0) {
    dag = reuse.previous.dag;
  } else {
    const graphNodes: Array<{ uniqueId: string; dependsOn: readonly string[] }> = [];
    for (const r of rendered.values()) graphNodes.push({ uniqueId: r.node.uniqueId, dependsOn: depsOf(r) });
    for (const s of seeds.values()) graphNodes.push({ uniqueId: s.uniqueId, dependsOn: [] });
    for (const s of sources) graphNodes.push({ uniqueId: s.uniqueId, dependsOn: [] });
    dag = new Dag(graphNodes);
    const fileOf = new Map<string, string>();
    for (const r of rendered.values()) fileOf.set(r.node.uniqueId, r.node.originalFilePath);
    dag.assertAcyclic((id) => fileOf.get(id) ?? id);
  }

  const macroIdx = reuse?.state.macroIndex ?? macroIndex(parsed, engine.macroNames);
  const macroId = (name: string) => `macro.${projectConfig.name}.${name}`;
  const compiledDir = `${projectConfig.targetPath}/compiled/`;
  // A recompile has the same nodes as before (else it is a full compile): copy, then replace the dirty ones.
  const nodes: Record<string, ManifestNode> = reuse ? { ...previousManifest!.nodes } : {};
  for (const r of reuse ? [...reuse.dirty].flatMap((n) => rendered.get(n) ?? []) : rendered.values()) {
    const { node, config, output } = r;
    const rel = relationOf(node.name);
    const ephemeral = config.materialized === 'ephemeral';
    // Field order is the manifest's key order on disk: keep it.
    const modelNode: ModelManifestNode = {
      ...baseFields(node, projectConfig.name, config),
      resource_type: 'model',
      database: rel.database,
      schema: rel.database,
      alias: rel.alias,
      relation_name: ephemeral ? null : qualifiedName(rel.database, rel.alias),
      language: 'sql',
      raw_code: node.rawCode,
      compiled: true,
      compiled_code: finishSql(output.sql, output.refs),
      compiled_path: compiledDir + node.originalFilePath,
      checksum: { name: 'sha256', checksum: sha256(node.rawCode) },
      refs: uniqueNames(output.refs),
      sources: uniquePairs(output.sources),
      depends_on: { nodes: depsOf(r), macros: macroIdx.depsOf(node.rawCode).map(macroId) },
    };
    nodes[node.uniqueId] = modelNode;
  }
  for (const seed of reuse ? [] : seeds.values()) {
    const rel = relationOf(seed.name);
    const seedNode: SeedManifestNode = {
      ...baseFields(seed, projectConfig.name, seed.config),
      resource_type: 'seed',
      database: rel.database,
      schema: rel.database,
      alias: rel.alias,
      relation_name: qualifiedName(rel.database, rel.alias),
      root_path: project.root,
      checksum: { name: 'sha256', checksum: sha256(readFileSync(seed.absPath)) },
      depends_on: { nodes: [], macros: [] },
    };
    nodes[seed.uniqueId] = seedNode;
  }
  let sourceNodes: Record<string, SourceManifestNode>;
  if (previousManifest) sourceNodes = previousManifest.sources as Record<string, SourceManifestNode>;
  else {
    sourceNodes = {};
    for (const s of sources) sourceNodes[s.uniqueId] = sourceNode(s, projectConfig.name, target.raw_database);
  }


  let parentMap: Record<string, readonly string[]>;
  let childMap: Record<string, readonly string[]>;
  if (reuse && dag === reuse.previous.dag) {
    parentMap = reuse.previous.manifest.parent_map;
    childMap = reuse.previous.manifest.child_map;
  } else if (reuse) {
    // Same nodes, so the same keys in the same order: only the changed models and their old and new parents move.
    const pm: Record<string, readonly string[]> = { ...reuse.previous.manifest.parent_map };
    const cm: Record<string, readonly string[]> = { ...reuse.previous.manifest.child_map };
    const touched = new Set<string>();
    for (const name of reuse.depsChanged) {
      const id = rendered.get(name)!.node.uniqueId;
      touched.add(id);
      for (const p of reuse.previous.dag.parents(id)) touched.add(p);
      for (const p of dag.parents(id)) touched.add(p);
    }
    for (const id of touched) {
      pm[id] = dag.parents(id).sort();
      cm[id] = dag.children(id).sort();
    }
    parentMap = pm;
    childMap = cm;
  } else {
    parentMap = {};
    childMap = {};
    for (const id of dag.nodeIds.sort()) {
      parentMap[id] = dag.parents(id).sort();
      childMap[id] = dag.children(id).sort();
    }
  }
  const manifest: Manifest = {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      kiln_version: KILN_VERSION,
      generated_at: opts.runStartedAt.toISOString(),
      invocation_id: opts.invocationId,
      project_name: projectConfig.name,
      target_name: target.name,
      adapter_type: target.engine === 'embedded' ? 'chdb' : 'clickhouse',
    },
    nodes,
    sources: sourceNodes,
    tests: dataTests.nodes,
    unit_tests: unitTests.nodes,
    macros:
      previousManifest?.macros ??
      Object.fromEntries(
        [...macroIdx.macros].map(([name, m]) => [
          macroId(name),
          { unique_id: macroId(name), name, original_file_path: m.path, checksum: sha256(m.body) },
        ]),
      ),
    parent_map: parentMap,
    child_map: childMap,
  };

  const compiled: CompiledProject = {
    project,
    parsed: sources === parsed.sources ? parsed : { ...parsed, sources },
    manifest,
    dag,
    engine,
    warnings,
    renderModel(uniqueId, { isIncremental, vars, ephemerals }) {
      const node = parsed.models.find((m) => m.uniqueId === uniqueId);
      if (!node) throw new KilnError('INTERNAL', `no model ${uniqueId}`);
      const output = engine.render({ name: node.name, file: node.originalFilePath, code: node.rawCode, isIncremental, ...(vars ? { vars } : {}) });
      return finishSql(output.sql, output.refs, ephemerals);
    },
    resolveSql(sql, refs, ephemerals) {
      return finishSql(sql, refs, ephemerals);
    },
    dataTests,
  };
  const volatile: number[] = [];
  renders.forEach((r, i) => r.output.volatile && volatile.push(i));
  compileStateOf.set(compiled, { renders, parseWarnings: input.parseWarnings, macroWarnings: input.macroWarnings, macroIndex: macroIdx, volatile });
  return compiled;
}

/** `ref()` names of a model, each once, in first-call order. */
function uniqueNames(refs: readonly string[]): Array<{ name: string }> {
  if (refs.length === 1) return [{ name: refs[0]! }];
  return [...new Set(refs)].map((name) => ({ name }));
}

function baseFields(node: ModelNode | SeedNode, packageName: string, config: NodeConfig) {
  return {
    unique_id: node.uniqueId,
    name: node.name,
    package_name: packageName,
    original_file_path: node.originalFilePath,
    path: node.originalFilePath,
    fqn: node.fqn,
    description: node.description,
    columns: columnsRecord(node.columns),
    tags: (config.tags as string[] | undefined) ?? [],
    meta: node.meta,
    config,
    patch_path: node.patch ? `${node.patch.file}` : null,
  };
}

function sourceNode(s: SourceNode, packageName: string, rawDatabase: string): SourceManifestNode {
  const database = sourceDatabase(s, rawDatabase);
  return {
    unique_id: s.uniqueId,
    resource_type: 'source',
    name: s.name,
    source_name: s.sourceName,
    identifier: s.identifier,
    database,
    schema: database,
    relation_name: qualifiedName(database, s.identifier),
    loader: s.loader ?? '',
    package_name: packageName,
    original_file_path: s.originalFilePath,
    path: s.originalFilePath,
    fqn: s.fqn,
    description: s.description,
    columns: columnsRecord(s.columns),
    tags: (s.config.tags as string[] | undefined) ?? [],
    meta: s.meta,
    config: s.config,
    patch_path: null,
    source_meta: redactSecrets(s.options) as Record<string, unknown>,
    freshness: s.options.freshness ?? null,
    loaded_at_field: typeof s.options.loaded_at_field === 'string' ? s.options.loaded_at_field : null,
  };
}

function columnsRecord(columns: readonly ColumnSpec[]): Record<string, ManifestColumn> {
  return Object.fromEntries(
    columns.map((c) => [c.name, { name: c.name, description: c.description ?? '', data_type: c.data_type ?? null, meta: c.meta ?? {} }]),
  );
}

const SECRET_KEY = /pass(word)?|secret|token|credential|api_?key/i;

/** Secrets never reach an artifact. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== '' && v !== null ? '***' : redactSecrets(v)]),
    );
  }
  return value;
}



/** 1-based line of the first `fn('name'` call in a template, for error locations. */
export function lineOfCall(code: string, fn: string, name: string): number | undefined {
  const re = new RegExp(`${fn}\\s*\\(\\s*(?:['"][^'"]*['"]\\s*,\\s*)?['"]${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`);
  const m = re.exec(code);
  if (!m) return undefined;
  return code.slice(0, m.index).split('\n').length;
}

export type MacroIndex = ReturnType<typeof macroIndex>;

/** Macro bodies by name, and the macros a piece of code calls directly or through other macros. */
function macroIndex(parsed: ParsedProject, macroNames: ReadonlySet<string>) {
  const macros = new Map<string, { readonly body: string; readonly path: string }>();
  for (const file of parsed.macros) {
    const re = /{%-?\s*(?:macro|test)\s+(\w+)\s*\(([\s\S]*?){%-?\s*end(?:macro|test)\s*-?%}/g;
    for (const m of file.source.matchAll(re)) {
      macros.set(macroNames.has(m[1]!) ? m[1]! : `test_${m[1]}`, { body: m[2]!, path: file.path });
    }
  }
  // One pass of one regex per piece of code, not one regex per macro (names are \w+: no escaping).
  // Two names cannot match at one position (`name\s*(`), so the scan finds every called name.
  const callRe = macros.size ? new RegExp(`\\b(${[...macros.keys()].join('|')})\\s*\\(`, 'g') : undefined;
  const called = (code: string): string[] => (callRe ? [...new Set(Array.from(code.matchAll(callRe), (m) => m[1]!))] : []);
  const calledByMacro = new Map<string, string[]>();
  const depsOf = (code: string): string[] => {
    const out = new Set<string>();
    const queue = called(code);
    while (queue.length) {
      const n = queue.pop()!;
      if (out.has(n)) continue;
      out.add(n);
      let next = calledByMacro.get(n);
      if (!next) calledByMacro.set(n, (next = called(macros.get(n)?.body ?? '')));
      queue.push(...next);
    }
    return [...out].sort();
  };
  return { macros, depsOf };
}
