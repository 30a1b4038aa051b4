import { Diagnostics } from '../diagnostics.js';
import type { ModelNode, ParsedProject } from '../project/nodes.js';
import { diskProjectFiles } from '../project/project-files.js';
import { compileStateOf, linkProject, type CompiledProject } from './compile-project.js';
import { createTemplateEngine, renderModelFile, type CompileOptions, type RenderedModel } from './render-models.js';

/**
 * Recompiles after `changedFiles` (project-relative, `/`-separated) were saved, reusing every
 * other model's render and manifest node from `previous`. Only edits of existing model files are
 * done this way; anything else (a new, deleted or renamed file, a macro, YAML, seed or
 * project.yml, a model switched between enabled and disabled) returns undefined: the caller
 * compiles the project afresh. The result equals a full compile of the same files with `opts`.
 */
export function recompileProject(previous: CompiledProject, changedFiles: readonly string[], opts: CompileOptions): CompiledProject | undefined {
  const state = compileStateOf.get(previous);
  if (!state || changedFiles.length === 0) return undefined;
  const { parsed, project } = previous;
  const wanted = new Set(changedFiles);
  // Edited files are read like a full compile reads them.
  const files = diskProjectFiles(project.root);
  const index = new Map<string, number>();
  state.renders.forEach((r, i) => {
    if (wanted.has(r.node.originalFilePath)) index.set(r.node.originalFilePath, i);
  });
  const otherKinds = new Set([...parsed.macros.map((m) => m.path), ...parsed.singularTests.map((t) => t.path)]);

  const edits = new Map<number, ModelNode>();
  for (const file of wanted) {
    const i = index.get(file);
    if (i === undefined || otherKinds.has(file)) return undefined;
    let rawCode: string;
    try {
      rawCode = files.read(file);
    } catch {
      return undefined; // deleted (or renamed away): the file list changed
    }
    edits.set(i, { ...state.renders[i]!.node, rawCode });
  }

  // A new engine: invocation_id and run_started_at are the new invocation's.
  const engine = createTemplateEngine(project, parsed, opts);
  const renders: Array<RenderedModel | undefined> = state.renders.slice();
  const models: ModelNode[] = parsed.models.slice();
  const changed: Array<{ before: RenderedModel; after: RenderedModel }> = [];
  const diagnostics = new Diagnostics();
  diagnostics.warnings.push(...state.parseWarnings);
  const failed = new Set<string>();
  // Whatever read the time or the invocation id renders again, as in a full compile.
  const again = [...new Set([...edits.keys(), ...state.volatile])].sort((a, b) => a - b);
  for (const i of again) {
    const before = state.renders[i]!;
    const node = edits.get(i);
    const after = diagnostics.capture(() => renderModelFile(engine, node ?? before.node));
    if (after) {
      renders[i] = after;
      // A compile that succeeded rendered every model: renders and parsed.models line up.
      if (node) models[i] = node;
      changed.push({ before, after });
    } else {
      // As in a full compile, a model that does not render is missing (and reported once).
      failed.add(before.node.name);
      renders[i] = undefined;
    }
  }
  if (changed.some((c) => c.before.enabled !== c.after.enabled)) return undefined;
  // Tables of whole-database sources are nodes only while something reads them: a change there changes the node list.
  const whole = new Set(parsed.wholeDatabaseSources.map((w) => w.sourceName));
  const readsWhole = (r: RenderedModel) => r.output.sources.some(([s]) => whole.has(s));
  if (changed.some((c) => (readsWhole(c.before) || readsWhole(c.after)) && !samePairs(c.before.output.sources, c.after.output.sources))) return undefined;

  const dirty = new Set<string>();
  const depsChanged = new Set<string>();
  for (const { before, after } of changed) {
    const name = after.node.name;
    dirty.add(name);
    if (!sameList(before.output.refs, after.output.refs) || !samePairs(before.output.sources, after.output.sources)) depsChanged.add(name);
    // Others see a model through its relation, or, when ephemeral, its SQL inlined into theirs.
    const spreads = relationKey(before) !== relationKey(after) || before.config.materialized === 'ephemeral' || after.config.materialized === 'ephemeral';
    if (spreads) for (const id of previous.dag.descendants(after.node.uniqueId)) dirty.add(nameOfId(previous, id));
  }
  const nextParsed: ParsedProject = { ...parsed, models };
  return linkProject({
    project,
    parsed: nextParsed,
    engine,
    opts,
    parseWarnings: state.parseWarnings,
    macroWarnings: state.macroWarnings,
    renders: renders.filter((r): r is RenderedModel => r !== undefined),
    failed,
    diagnostics,
    reuse: { previous, state, changed: new Set(changed.map((c) => c.after.node.name)), dirty, depsChanged },
  });
}

function nameOfId(compiled: CompiledProject, id: string): string {
  return compiled.manifest.nodes[id]?.name ?? id;
}

function relationKey(r: RenderedModel): string {
  const c = r.config;
  return `${String(c.materialized)}\u0000${String(c.database)}\u0000${String(c.schema)}\u0000${String(c.alias)}`;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function samePairs(a: ReadonlyArray<readonly [string, string]>, b: ReadonlyArray<readonly [string, string]>): boolean {
  return a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);
}
