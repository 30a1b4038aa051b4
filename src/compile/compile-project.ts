import { qualifiedName } from '../adapters/quoting.js';
import { Diagnostics } from '../diagnostics.js';
import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { isPlainObject } from '../project/node-config.js';
import type { Dag } from '../graph/dag.js';
import type { Project } from '../project/load-project.js';
import { sha256 } from '../project/checksums.js';
import { sourceIdLookup, type ParsedProject, type SeedNode } from '../project/nodes.js';
import { diskProjectFiles, type ProjectFiles } from '../project/project-files.js';
import { readProject } from '../project/read-project.js';
import type { TargetConfig } from '../project/types.js';
import type { TemplateEngine } from '../template/template-engine.js';
import { checkRefs } from './check-refs.js';
import { hookStatements, sideStatementOutsideHook } from './hook-statements.js';
import { assertOneStatement } from './check-statements.js';
import { compileDataTests } from './data-test-nodes.js';
import type { CustomMaterialization, ExecutableNode, ExecutionManifest } from './execution-manifest.js';
import { didYouMean } from '../project/closest.js';
import { MATERIALIZED_VALUES, type Materialized } from '../project/types.js';
import { macroIndex, type MacroIndex } from './macro-index.js';
import type { Manifest, ManifestNode, ModelManifestNode, SourceManifestNode } from './manifest.js';
import { modelManifestNode, seedManifestNode, sourceManifestNode, type NodeRelation } from './manifest-nodes.js';
import { DISTRIBUTED_KINDS, modelConfigLocator, modelKindOf } from './model-kind.js';
import { materializedViewName, materializedViewParts } from './materialized-view-parts.js';
import { tableDefinitionOf } from './table-definition.js';
import { adjacencyMaps, buildGraph, patchAdjacencyMaps, type GraphNode } from './project-graph.js';
import { createTemplateEngine, eventTimeSources, renderModels, type CompileOptions, type RenderedModel } from './render-models.js';
import { sourceNodesRead } from './source-nodes.js';
import { relationNamer } from './relation-naming.js';
import { resolveSql, type RefTable, type RenderedSql } from './sql-resolver.js';
import { compileUnitTests } from './unit-test-nodes.js';
import { engineOf } from './engine-of.js';

export type { CompileOptions, RenderedModel } from './render-models.js';

export const KILN_VERSION = '0.1.0';

/**
 * Compile's result: dbt's manifest, the execution manifest (what runs, rendered), the graph.
 * Plain data apart from the graph, which is the manifest's parent_map in a queryable form.
 */
export interface CompiledProject {
  readonly project: Project;
  readonly parsed: ParsedProject;
  readonly manifest: Manifest;
  readonly execution: ExecutionManifest;
  readonly dag: Dag;
  readonly warnings: readonly Warning[];
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
  /** True when any template (model, hook, test) read the time or the invocation id. */
  readonly readsClock: boolean;
}

/** A compile's state, for recompileProject; absent on a CompiledProject built some other way. */
export const compileStateOf = new WeakMap<CompiledProject, CompileState>();

/**
 * Project files → parsed nodes → rendered models → refs checked → tests → graph → manifest.
 * Touches no database and reads only through `files`. Every stage reports into one Diagnostics;
 * the errors of all of them are thrown together at the end.
 */
export function compileProject(project: Project, opts: CompileOptions, files: ProjectFiles = diskProjectFiles(project.root)): CompiledProject {
  const diagnostics = new Diagnostics();
  diagnostics.warnings.push(...project.warnings);
  const parsed = readProject(project, files, diagnostics);
  const parseWarnings = [...diagnostics.warnings];
  const engine = createTemplateEngine(project, parsed, opts);
  for (const err of engine.macroErrors) diagnostics.error(err);
  const macroWarnings = [...engine.warnings];
  const { renders, failed } = renderModels(engine, parsed.models, diagnostics);
  return linkProject({ project, parsed, engine, opts, parseWarnings, macroWarnings, renders, failed, diagnostics });
}

export interface LinkInput {
  readonly project: Project;
  readonly parsed: ParsedProject;
  readonly engine: TemplateEngine;
  readonly opts: CompileOptions;
  readonly parseWarnings: readonly Warning[];
  /** The template engine's own warnings (macros defined twice), before any model rendered. */
  readonly macroWarnings: readonly Warning[];
  /** Every model that rendered, in file order. */
  readonly renders: readonly RenderedModel[];
  /** Names of the models that did not render (their errors are in `diagnostics`). */
  readonly failed: ReadonlySet<string>;
  /** Errors found so far; warnings start as the parse warnings. */
  readonly diagnostics: Diagnostics;
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

/** Rendered models → refs checked → tests → graph → manifest and execution manifest. */
export function linkProject(input: LinkInput): CompiledProject {
  const { project, parsed, engine, renders, reuse, diagnostics } = input;
  const { config: projectConfig, target } = project;
  const previous = reuse?.previous;
  const warnings = diagnostics.warnings;

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
  const checked = reuse && !diagnostics.hasErrors ? [...reuse.changed].flatMap((n) => rendered.get(n) ?? []) : rendered.values();
  const refNames = {
    has: (name: string) => rendered.has(name) || seeds.has(name),
    all: () => [...rendered.keys(), ...seeds.keys()],
    disabled,
    failed: input.failed,
  };
  checkRefs(checked, refNames, diagnostics);

  const relations = new Map<string, NodeRelation>();
  const nameOf = relationNamer(engine, target.database);
  for (const r of rendered.values()) {
    const rel = diagnostics.capture(() => nameOf(r.node, r.config));
    if (rel) relations.set(r.node.name, rel);
  }
  for (const s of seeds.values()) {
    const rel = diagnostics.capture(() => nameOf(s, s.config));
    if (rel) relations.set(s.name, rel);
  }
  // Hooks and the incremental SQL render knowing where each node lands (`{{ this.schema }}`).
  const relationOf = (name: string) => {
    const rel = relations.get(name);
    return rel && { database: rel.database, table: rel.alias };
  };
  // A model's own SQL renders before any config is known; one that read where a node lands renders again, now that it is.
  for (const r of rendered.values()) {
    if (!r.output.readsPlacement) continue;
    const output = diagnostics.capture(() => engine.render({ name: r.node.name, file: r.node.originalFilePath, code: r.node.rawCode, refRelation: relationOf }));
    if (output) rendered.set(r.node.name, { ...r, output });
  }
  const refs = refTable(rendered, relations, eventTimeSources(parsed, target.raw_database));
  const resolve = (r: RenderedSql) => resolveSql(refs, r);

  // Tests compile before the graph: a table of a whole-database source that only a test reads is a node too.
  const refable = new Map<string, { uniqueId: string; config: ModelOrSeedConfig }>();
  for (const r of rendered.values()) refable.set(r.node.name, { uniqueId: r.node.uniqueId, config: r.config });
  for (const s of seeds.values()) refable.set(s.name, { uniqueId: s.uniqueId, config: s.config });
  const testCtx = { project, parsed, engine, diagnostics, disabled, failed: input.failed, resolve, refable, relationOf };
  const dataTests = compileDataTests(testCtx);
  for (const [id, query] of Object.entries(dataTests.rendered)) {
    // One rendered with execute false is checked when it renders for real (introspective-render.ts).
    if (query.rerender) continue;
    const { declared_at: at, name } = dataTests.nodes[id]!;
    diagnostics.capture(() => assertOneStatement(query.sql, { file: at.file, ...(at.line ? { line: at.line } : {}) }, `test '${name}'`));
  }
  const unitTests = compileUnitTests(testCtx);
  const sources = parsed.wholeDatabaseSources.length
    ? diagnostics.capture(() =>
        sourceNodesRead(parsed, projectConfig.name, target.raw_database, [
          ...[...rendered.values()].flatMap((r) => r.output.sources),
          ...Object.values(dataTests.nodes).flatMap((t) => t.sources),
        ]),
      ) ?? parsed.sources
    : parsed.sources;

  const idOf = (name: string) => rendered.get(name)?.node.uniqueId ?? seeds.get(name)?.uniqueId;
  const sourceId = sourceIdLookup(sources, projectConfig.name);
  const dependsOn = (r: RenderedModel): string[] => {
    const out = new Set<string>();
    for (const n of r.output.refs) {
      // A ref to itself is reported by checkRefs; as an edge it would be reported again as a cycle.
      const id = n !== r.node.name ? idOf(n) : undefined;
      if (id) out.add(id);
    }
    for (const [s, t] of r.output.sources) out.add(sourceId(s, t));
    return [...out];
  };
  // A model's dependencies, computed once: the graph and its manifest node share them.
  const deps = new Map<string, readonly string[]>();
  const depsOf = (r: RenderedModel): readonly string[] => {
    let d = deps.get(r.node.name);
    if (d === undefined) {
      d = reuse && !reuse.depsChanged.has(r.node.name) ? previous!.manifest.nodes[r.node.uniqueId]?.depends_on.nodes : undefined;
      deps.set(r.node.name, (d ??= dependsOn(r)));
    }
    return d;
  };
  let dag: Dag;
  if (reuse && reuse.depsChanged.size === 0) {
    dag = previous!.dag;
  } else {
    const graphNodes: GraphNode[] = [];
    for (const r of rendered.values()) graphNodes.push({ uniqueId: r.node.uniqueId, dependsOn: depsOf(r) });
    for (const s of seeds.values()) graphNodes.push({ uniqueId: s.uniqueId, dependsOn: [] });
    for (const s of sources) graphNodes.push({ uniqueId: s.uniqueId, dependsOn: [] });
    const fileOf = new Map<string, string>();
    for (const r of rendered.values()) fileOf.set(r.node.uniqueId, r.node.originalFilePath);
    dag = buildGraph(graphNodes, (id) => fileOf.get(id) ?? id, diagnostics);
  }

  // Execution needs a valid kind for every model it may run; a bad one is a compile error.
  const custom = new Map(engine.materializations.map((m) => [m.name, m]));
  const reported = diagnostics.settleMaterializations((name) => custom.has(name));
  const execModels: Record<string, ExecutableNode> = reuse ? { ...previous!.execution.models } : {};
  const unrunnable: Record<string, CustomMaterialization> = reuse ? { ...previous!.execution.unrunnable } : {};
  for (const r of reuse ? [...reuse.changed].flatMap((n) => rendered.get(n) ?? []) : rendered.values()) {
    const materialized = String(r.config.materialized);
    if (!MATERIALIZED_VALUES.includes(materialized as Materialized)) {
      const m = custom.get(materialized);
      if (m) unrunnable[r.node.uniqueId] = { name: m.name, package: m.package, file: m.file };
      // Reported at its config already, unless that was a package's project file (whose warnings are not shown).
      else if (!reported.has(materialized)) diagnostics.error(unknownMaterialization(r));
      continue;
    }
    delete unrunnable[r.node.uniqueId];
    const model = diagnostics.capture(() => executableModel(engine, r, warnings, target, relationOf));
    if (model) execModels[r.node.uniqueId] = model;
  }
  for (const s of reuse ? [] : seeds.values()) {
    const seed = diagnostics.capture(() => executableSeed(engine, s));
    if (seed) execModels[s.uniqueId] = seed;
  }
  if (project.strict) diagnostics.promoteUnknownKeys(project.strict);
  diagnostics.throwIfErrors();

  const macroIdx = reuse?.state.macroIndex ?? macroIndex(parsed, engine.macroNames);
  const macroId = (name: string) => `macro.${macroIdx.macros.get(name)?.package ?? projectConfig.name}.${name}`;
  const compiledDir = `${projectConfig.targetPath}/compiled/`;
  // A recompile has the same nodes as before (else it is a full compile): copy, then replace the dirty ones.
  const nodes: Record<string, ManifestNode> = reuse ? { ...previous!.manifest.nodes } : {};
  for (const r of reuse ? [...reuse.dirty].flatMap((n) => rendered.get(n) ?? []) : rendered.values()) {
    nodes[r.node.uniqueId] = modelManifestNode(
      r,
      r.node.packageName ?? projectConfig.name,
      relations.get(r.node.name)!,
      { code: resolve(r.output), path: compiledDir + compiledFileOf(r.node) },
      { nodes: depsOf(r), macros: macroIdx.depsOf(r.node.rawCode).map(macroId) },
    );
  }
  for (const seed of reuse ? [] : seeds.values()) {
    nodes[seed.uniqueId] = seedManifestNode(seed, seed.packageName ?? projectConfig.name, relations.get(seed.name)!, project.root);
  }
  let sourceNodes: Record<string, SourceManifestNode>;
  if (previous) sourceNodes = previous.manifest.sources as Record<string, SourceManifestNode>;
  else {
    sourceNodes = {};
    for (const s of sources) sourceNodes[s.uniqueId] = sourceManifestNode(s, s.packageName ?? projectConfig.name, target.raw_database);
  }

  for (const r of reuse ? [...reuse.dirty].flatMap((n) => rendered.get(n) ?? []) : rendered.values()) {
    if (r.config.materialized === 'materialized_view') nodes[r.node.uniqueId] = withMaterializedViews(nodes[r.node.uniqueId] as ModelManifestNode, nodes, sourceNodes);
  }

  let maps: { parentMap: Record<string, readonly string[]>; childMap: Record<string, readonly string[]> };
  if (reuse && dag === previous!.dag) maps = { parentMap: previous!.manifest.parent_map, childMap: previous!.manifest.child_map };
  else if (reuse) maps = patchAdjacencyMaps(previous!.manifest, previous!.dag, dag, [...reuse.depsChanged].map((n) => rendered.get(n)!.node.uniqueId));
  else maps = adjacencyMaps(dag);

  const manifest: Manifest = {
    metadata: {
      dbt_schema_version: 'https://schemas.getdbt.com/dbt/manifest/v12.json',
      kiln_version: KILN_VERSION,
      generated_at: input.opts.runStartedAt.toISOString(),
      invocation_id: input.opts.invocationId,
      project_name: projectConfig.name,
      target_name: target.name,
      adapter_type: target.engine === 'embedded' ? 'chdb' : 'clickhouse',
    },
    nodes,
    sources: sourceNodes,
    tests: dataTests.nodes,
    unit_tests: unitTests.nodes,
    macros:
      previous?.manifest.macros ??
      Object.fromEntries(
        [...macroIdx.macros].map(([name, m]) => [
          macroId(name),
          { unique_id: macroId(name), name, original_file_path: m.path, checksum: sha256(m.body) },
        ]),
      ),
    parent_map: maps.parentMap,
    child_map: maps.childMap,
  };

  const compiled: CompiledProject = {
    project,
    parsed: sources === parsed.sources ? parsed : { ...parsed, sources },
    manifest,
    execution: { refs, models: execModels, tests: dataTests.rendered, unitTests: unitTests.rendered, ...(Object.keys(unrunnable).length ? { unrunnable } : {}) },
    dag,
    warnings,
  };
  const volatile: number[] = [];
  renders.forEach((r, i) => r.output.volatile && volatile.push(i));
  engineOf.set(compiled, engine);
  compileStateOf.set(compiled, { renders, parseWarnings: input.parseWarnings, macroWarnings: input.macroWarnings, macroIndex: macroIdx, volatile, readsClock: engine.readsClock });
  return compiled;
}

type ModelOrSeedConfig = RenderedModel['config'];

/** Where a node's compiled SQL goes below target/compiled: a snapshot file (or YAML) may hold several, so each gets its own. */
function compiledFileOf(node: RenderedModel['node']): string {
  if (node.resourceType !== 'snapshot') return node.originalFilePath;
  const slash = node.originalFilePath.lastIndexOf('/');
  return `${slash < 0 ? '' : node.originalFilePath.slice(0, slash + 1)}${node.name}.sql`;
}

/** Ref names → relations, and ephemeral models' rendered SQL: what resolving any SQL needs. */
function refTable(rendered: ReadonlyMap<string, RenderedModel>, relations: ReadonlyMap<string, NodeRelation>, sources: ReadonlyMap<string, string>): RefTable {
  const rel: Record<string, string> = {};
  const ephemerals: Record<string, RenderedSql> = {};
  for (const [name, r] of relations) {
    const model = rendered.get(name);
    if (model?.config.materialized === 'ephemeral') ephemerals[name] = { sql: model.output.sql, refs: model.output.refs };
    else rel[name] = qualifiedName(r.database, r.alias);
  }
  return { relations: rel, ephemerals, ...(sources.size ? { sources: Object.fromEntries(sources) } : {}) };
}

/** A model as execution needs it: its validated kind and every SQL it may run, rendered now. */
function executableModel(
  engine: TemplateEngine,
  r: RenderedModel,
  warnings: Warning[],
  target: Pick<TargetConfig, 'name' | 'cluster'>,
  refRelation: (name: string) => { readonly database: string; readonly table: string } | undefined,
): ExecutableNode {
  const { node, config, output } = r;
  const locate = modelConfigLocator(node.originalFilePath, node.rawCode, node.patch);
  const kind = modelKindOf(config, locate);
  if (DISTRIBUTED_KINDS.has(kind.materialized) && !target.cluster) {
    // A Distributed table needs the cluster it spans; on one node there is none to name.
    throw new KilnError('CONFIG_INVALID', `model '${node.name}' is materialized as ${kind.materialized}, which needs a cluster target; target '${target.name}' has no cluster`, {
      location: locate('materialized'),
      hint: `set cluster: <name from remote_servers> on the target, or build it as ${kind.materialized === 'distributed_table' ? 'table' : 'incremental'} here (e.g. materialized="${kind.materialized}" if target.name == 'prod' else "${kind.materialized === 'distributed_table' ? 'table' : 'incremental'}")`,
    });
  }
  const table = tableDefinitionOf(
    { modelName: node.name, materialized: kind.materialized, config, columns: node.columns, properties: node.patch ?? { file: node.originalFilePath }, locate },
    warnings,
  );
  if (kind.materialized === 'seed') throw new KilnError('CONFIG_INVALID', `materialized 'seed' is for CSV files in seed paths`, { location: { file: node.originalFilePath }, hint: 'use view, table, incremental, materialized_view or ephemeral' });
  if ((kind.materialized === 'snapshot') !== (node.resourceType === 'snapshot')) {
    throw new KilnError('CONFIG_INVALID', node.resourceType === 'snapshot' ? `snapshot '${node.name}' cannot be materialized as '${kind.materialized}'` : `materialized 'snapshot' is for {% snapshot %} blocks in snapshot paths`, {
      location: modelConfigLocator(node.originalFilePath, node.rawCode, node.patch)('materialized'),
      hint: node.resourceType === 'snapshot' ? 'remove materialized from its config' : 'move the query into snapshots/ as {% snapshot name %}…{% endsnapshot %}, or use view, table, incremental or ephemeral',
    });
  }
  checkQuerySettings(config, kind.materialized, locate, warnings);
  const where = { file: node.originalFilePath };
  let introspective = output.introspective;
  const render = (code: string, what: string, isIncremental = false): RenderedSql => {
    const out = engine.render({ name: node.name, file: node.originalFilePath, code, isIncremental, refRelation });
    introspective ||= out.introspective;
    assertOneStatement(out.sql, where, what);
    return { sql: out.sql, refs: out.refs };
  };
  const renderHook = (code: string, what: string): RenderedSql[] => {
    const out = engine.render({ name: node.name, file: node.originalFilePath, code, refRelation });
    introspective ||= out.introspective;
    assertOneStatement(out.sql, where, what);
    return hookStatements(out);
  };
  if (output.statements?.length) throw sideStatementOutsideHook(`model '${node.name}'`, where);
  // With execute false an introspective model may render to anything: it is checked when it executes.
  if (!introspective) assertOneStatement(output.sql, where, `model '${node.name}'`);
  if (!introspective && kind.materialized === 'materialized_view') materializedViewParts(output.sql, where, node.rawCode);
  const rendered = {
    kind,
    sql: { sql: output.sql, refs: output.refs },
    ...(kind.materialized === 'incremental' || kind.materialized === 'distributed_incremental' ? { incrementalSql: render(node.rawCode, `model '${node.name}' (is_incremental)`, true) } : {}),
    preHooks: config.pre_hook?.length ? config.pre_hook.flatMap((h) => renderHook(h, `a pre_hook of model '${node.name}'`)) : NO_HOOKS,
    postHooks: config.post_hook?.length ? config.post_hook.flatMap((h) => renderHook(h, `a post_hook of model '${node.name}'`)) : NO_HOOKS,
    ...(table ? { table } : {}),
  };
  return introspective ? { ...rendered, introspective: true } : rendered;
}

const NO_HOOKS: readonly RenderedSql[] = Object.freeze([]);


const QUERY_SETTINGS_KINDS = new Set(['table', 'incremental', 'distributed_table', 'distributed_incremental']);

/** dbt-clickhouse's query_settings: setting names to scalar values, applied to a table's or an incremental's SELECT (distributed ones too). */
function checkQuerySettings(config: RenderedModel['config'], materialized: string, locate: (key: string) => SourceLocation, warnings: Warning[]): void {
  const qs = config.query_settings;
  if (qs === undefined) return;
  if (!isPlainObject(qs) || Object.values(qs).some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')) {
    throw new KilnError('CONFIG_INVALID', `config 'query_settings' must map setting names to values`, { location: locate('query_settings'), hint: "config(query_settings={'max_threads': 2, 'join_algorithm': 'hash'})" });
  }
  if (!QUERY_SETTINGS_KINDS.has(materialized)) {
    warnings.push({ message: `query_settings apply to table and incremental models; ignored on a ${materialized}`, location: locate('query_settings') });
  }
}

function unknownMaterialization(r: RenderedModel): KilnError {
  const name = String(r.config.materialized);
  return new KilnError('CONFIG_INVALID', `unknown materialization '${name}'`, {
    location: modelConfigLocator(r.node.originalFilePath, r.node.rawCode, r.node.patch)('materialized'),
    hint: didYouMean(name, MATERIALIZED_VALUES) ?? `use one of ${MATERIALIZED_VALUES.join(', ')}`,
  });
}

/**
 * A materialized_view model's node with its ClickHouse views: each view's name and the nodes whose
 * inserts it is fed by (the model's dependencies named in that view's SELECT), for lineage.
 */
function withMaterializedViews(
  node: ModelManifestNode,
  nodes: Readonly<Record<string, ManifestNode>>,
  sources: Readonly<Record<string, SourceManifestNode>>,
): ModelManifestNode {
  const relationOf = (id: string) => nodes[id]?.relation_name ?? sources[id]?.relation_name ?? null;
  let parts: ReturnType<typeof materializedViewParts>;
  try {
    parts = materializedViewParts(node.compiled_code, { file: node.original_file_path });
  } catch {
    // An introspective model's SQL is only known at execution, where its parts are checked.
    return node;
  }
  const views = parts.map((part) => {
    const name = materializedViewName(node.alias, part);
    const fed = node.depends_on.nodes.filter((id) => {
      const rel = relationOf(id);
      return rel !== null && part.sql.includes(rel);
    });
    return { name, relation_name: qualifiedName(node.database, name), depends_on: { nodes: fed } };
  });
  return { ...node, materialized_views: views };
}

function executableSeed(engine: TemplateEngine, seed: SeedNode): ExecutableNode {
  const render = (code: string): RenderedSql[] => {
    const out = engine.render({ name: seed.name, file: seed.originalFilePath, code });
    assertOneStatement(out.sql, { file: seed.originalFilePath }, `a hook of seed '${seed.name}'`);
    return hookStatements(out);
  };
  return {
    kind: { materialized: 'seed' },
    preHooks: seed.config.pre_hook?.length ? seed.config.pre_hook.flatMap(render) : NO_HOOKS,
    postHooks: seed.config.post_hook?.length ? seed.config.post_hook.flatMap(render) : NO_HOOKS,
  };
}
