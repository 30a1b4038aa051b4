import { qualifiedName } from '../adapters/quoting.js';
import { modelConfigLocator } from './model-kind.js';
import { varScopeOf } from '../project/var-scopes.js';
import type { Diagnostics } from '../diagnostics.js';
import type { Warning } from '../errors.js';
import type { Project } from '../project/load-project.js';
import { mergeConfigs, normalizeConfig } from '../project/node-config.js';
import { sourceDatabase, wholeDatabaseTable, type ModelNode, type ParsedProject } from '../project/nodes.js';
import type { NodeConfig } from '../project/types.js';
import type { CompiledTemplateCache } from '../template/template-cache.js';
import { sourceRelationsOf, TemplateEngine, type RenderOutput } from '../template/template-engine.js';
import { sourceKey, sourcePlaceholder } from '../template/placeholders.js';
import { BUILTIN_TESTS_FILE } from './builtin-tests.js';

export interface CompileOptions {
  readonly invocationId: string;
  readonly runStartedAt: Date;
  /** nunjucks' generated code kept between runs (see template/template-cache.ts). */
  readonly templateCache?: CompiledTemplateCache;
}

/** One model file as compile rendered it; kept so a recompile can reuse it. */
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

/** The template engine of one compile: kiln's context, the project's sources and macros. */
export function createTemplateEngine(project: Project, parsed: ParsedProject, opts: CompileOptions): TemplateEngine {
  const { config: projectConfig, target } = project;
  const sourceRelations = new Map<string, Map<string, string>>();
  const windowed = eventTimeSources(parsed, target.raw_database);
  for (const s of parsed.sources) {
    if (!sourceRelations.has(s.sourceName)) sourceRelations.set(s.sourceName, new Map());
    const relation = qualifiedName(sourceDatabase(s, target.raw_database), s.identifier);
    sourceRelations.get(s.sourceName)!.set(s.tableName, windowed.has(sourceKey(s.sourceName, s.tableName)) ? sourcePlaceholder(s.sourceName, s.tableName) : relation);
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
    ...(project.packages.length ? { packageScope: (file: string) => varScopeOf(project, file) } : {}),
    target: { name: target.name, engine: target.engine, database: target.database, raw_database: target.raw_database, ...(target.cluster ? { cluster: target.cluster } : {}) },
    runStartedAt: opts.runStartedAt,
    invocationId: opts.invocationId,
    sources: { ...sourceRelationsOf(sourceRelations, wholeTable), actual: (source, table) => windowed.get(sourceKey(source, table)) },
    // Built-ins first, so a project's own generic test of the same name overrides one.
    macros: [BUILTIN_TESTS_FILE, ...parsed.macros],
    ...(projectConfig.dispatch ? { dispatch: projectConfig.dispatch } : {}),
    ...(opts.templateCache ? { templateCache: opts.templateCache } : {}),
  });
}

/**
 * Source tables that declare `event_time` (sourceKey → relation). source() renders them as
 * placeholders, resolved through the compile's RefTable, so a microbatch batch can read only its
 * window of them, as dbt 1.9 filters both refs and sources that declare event_time.
 */
export function eventTimeSources(parsed: ParsedProject, rawDatabase: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of parsed.sources) {
    const eventTime = s.config.event_time;
    if (typeof eventTime === 'string' && eventTime.trim()) out.set(sourceKey(s.sourceName, s.tableName), qualifiedName(sourceDatabase(s, rawDatabase), s.identifier));
  }
  return out;
}

const NO_WARNINGS: readonly Warning[] = Object.freeze([]);
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
    configWarnings: scratchWarnings.length ? scratchWarnings.splice(0).map((w) => (w.materialization === undefined ? w : { ...w, location: modelConfigLocator(node.originalFilePath, node.rawCode, node.patch)('materialized') })) : NO_WARNINGS,
    renderWarnings: engine.warnings.length > before ? engine.warnings.slice(before) : NO_WARNINGS,
  };
}

/** Every model rendered, in file order; a model that fails is reported and named in `failed`. */
export function renderModels(engine: TemplateEngine, models: readonly ModelNode[], diagnostics: Diagnostics): { renders: RenderedModel[]; failed: Set<string> } {
  const renders: RenderedModel[] = [];
  const failed = new Set<string>();
  for (const node of models) {
    const r = diagnostics.capture(() => renderModelFile(engine, node));
    if (r) renders.push(r);
    else failed.add(node.name);
  }
  return { renders, failed };
}
