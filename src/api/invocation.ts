import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compileProject, type CompiledProject } from '../compile/compile-project.js';
import type { Manifest } from '../compile/manifest.js';
import { openTemplateCache } from '../compile/template-cache-file.js';
import { recompileProject } from '../compile/recompile-project.js';
import { writeChangedArtifacts, writeCompileArtifacts } from '../compile/write-artifacts.js';
import { KilnError, type Warning } from '../errors.js';
import { selectNodes, type SelectableNode, type SelectionState } from '../graph/selector.js';
import { loadProject } from '../project/load-project.js';
import { silentReporter, type Reporter } from '../report/events.js';
import type { RunResults } from '../report/run-results.js';
import type { InvocationOptions } from './options.js';

/** One command's shared setup: the project compiled, artifacts written, nodes selected. */
export interface Invocation {
  readonly invocationId: string;
  readonly startedAt: Date;
  readonly compiled: CompiledProject;
  readonly reporter: Reporter;
  readonly options: InvocationOptions;
  readonly targetDir: string;
  /** Unique ids picked by --select/--exclude (all nodes without them). */
  readonly selected: ReadonlySet<string>;
}

export function openInvocation(options: InvocationOptions): Invocation {
  return prepareInvocation(options).finish();
}

/** A compiled invocation before selection and artifacts: `finish` selects nodes and writes them. */
export interface PreparedInvocation {
  readonly compiled: CompiledProject;
  /** True when only the changed model files were rendered again (see recompileProject). */
  readonly incremental: boolean;
  finish(): Invocation;
}

/**
 * The next invocation of `kiln watch` after `changedFiles` (project-relative, `/`-separated) were
 * saved. Edits of model files recompile incrementally from `previous`; any other change compiles
 * the project afresh, as openInvocation does. Selection and artifacts are left to `finish`, so
 * the caller can act on the in-memory manifest before the (large) manifest.json is written.
 */
export function reopenInvocation(previous: Invocation, changedFiles: readonly string[], options: InvocationOptions): PreparedInvocation {
  const invocationId = randomUUID();
  const startedAt = new Date();
  const { project } = previous.compiled;
  const targetDir = join(project.root, project.config.targetPath);
  const compiled = recompileProject(previous.compiled, changedFiles, {
    invocationId,
    runStartedAt: startedAt,
    // Read-only here: saving would keep only the few templates a recompile uses.
    templateCache: openTemplateCache(targetDir),
  });
  if (!compiled) return prepareInvocation(options);
  const reporter = options.reporter ?? silentReporter;
  const before = previous.compiled.manifest;
  return {
    compiled,
    incremental: true,
    finish() {
      for (const warning of compiled.warnings) reporter.emit({ type: 'warning', warning });
      const selected = selectAndReport(options, targetDir, compiled, reporter);
      writeChangedArtifacts(project.root, project.config.targetPath, compiled.manifest, before);
      return { invocationId, startedAt, compiled, reporter, options, targetDir, selected };
    },
  };
}

function prepareInvocation(options: InvocationOptions): PreparedInvocation {
  const reporter = options.reporter ?? silentReporter;
  const invocationId = randomUUID();
  const startedAt = new Date();
  const project = loadProject({
    ...(options.projectDir ? { projectDir: options.projectDir } : {}),
    ...(options.target ? { target: options.target } : {}),
    ...(options.vars ? { vars: options.vars } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const targetDir = join(project.root, project.config.targetPath);
  const templateCache = openTemplateCache(targetDir);
  const compiled = compileProject(project, { invocationId, runStartedAt: startedAt, templateCache });
  return {
    compiled,
    incremental: false,
    finish() {
      for (const warning of compiled.warnings) reporter.emit({ type: 'warning', warning });
      // Read --state before writing our own artifacts, in case it points at target/.
      const state = readSelectionState(options, targetDir, compiled);
      writeCompileArtifacts(project.root, project.config.targetPath, compiled.manifest);
      templateCache.save();
      const selected = selectWith(options, compiled, state, reporter);
      return { invocationId, startedAt, compiled, reporter, options, targetDir, selected };
    },
  };
}

function selectAndReport(options: InvocationOptions, targetDir: string, compiled: CompiledProject, reporter: Reporter): ReadonlySet<string> {
  return selectWith(options, compiled, readSelectionState(options, targetDir, compiled), reporter);
}

function selectWith(options: InvocationOptions, compiled: CompiledProject, state: SelectionState, reporter: Reporter): ReadonlySet<string> {
  if (!options.select?.length && !options.exclude?.length) return allNodeIds(compiled.manifest);
  const warnings: Warning[] = [];
  const selected = selectNodes(selectableNodes(compiled.manifest), compiled.dag, options.select, options.exclude, state, warnings);
  for (const warning of warnings) reporter.emit({ type: 'warning', warning });
  return selected;
}

/** What selectNodes picks without --select/--exclude: every node, in selectableNodes' order. */
function allNodeIds(manifest: Manifest): Set<string> {
  const out = new Set<string>();
  for (const group of [manifest.nodes, manifest.sources, manifest.tests, manifest.unit_tests]) for (const id in group) out.add(id);
  return out;
}

export function selectableNodes(manifest: Manifest): SelectableNode[] {
  const out: SelectableNode[] = [];
  for (const n of Object.values(manifest.nodes)) {
    out.push({
      uniqueId: n.unique_id,
      name: n.name,
      resourceType: n.resource_type,
      originalFilePath: n.original_file_path,
      fqn: n.fqn,
      tags: n.tags,
      config: n.config,
      checksum: n.checksum.checksum,
    });
  }
  for (const s of Object.values(manifest.sources)) {
    out.push({
      uniqueId: s.unique_id,
      name: s.name,
      resourceType: 'source',
      originalFilePath: s.original_file_path,
      fqn: s.fqn,
      tags: s.tags,
      sourceName: s.source_name,
      config: s.config,
    });
  }
  // A test is selected with any node it reads (dbt's eager indirect selection).
  for (const t of [...Object.values(manifest.tests), ...Object.values(manifest.unit_tests)]) {
    out.push({
      uniqueId: t.unique_id,
      name: t.name,
      resourceType: t.resource_type,
      originalFilePath: t.original_file_path,
      fqn: t.fqn,
      tags: t.tags,
      config: t.config,
      checksum: t.checksum.checksum,
      attachedTo: t.depends_on.nodes,
      testType: t.resource_type === 'unit_test' ? 'unit' : t.test_metadata ? 'generic' : 'singular',
    });
  }
  return out;
}

function readSelectionState(options: InvocationOptions, targetDir: string, compiled: CompiledProject): SelectionState {
  const out: { -readonly [K in keyof SelectionState]: SelectionState[K] } = {};
  if (options.state) {
    const dir = resolve(compiled.project.root, options.state);
    const file = join(dir, 'manifest.json');
    if (!existsSync(file)) {
      throw new KilnError('STATE_INVALID', `--state ${options.state}: no manifest.json in ${dir}`, {
        hint: 'point --state at a folder with the manifest.json of the run to compare against',
      });
    }
    Object.assign(out, compareWithManifest(JSON.parse(readFileSync(file, 'utf8')) as Manifest, compiled.manifest));
  }
  const resultsFile = join(options.state ? resolve(compiled.project.root, options.state) : targetDir, 'run_results.json');
  if ([...(options.select ?? []), ...(options.exclude ?? [])].some((s) => s.includes('result:')) && existsSync(resultsFile)) {
    const previous = JSON.parse(readFileSync(resultsFile, 'utf8')) as RunResults;
    out.results = new Map(previous.results.map((r) => [r.unique_id, r.status]));
  }
  return out;
}

type ComparableNode = { readonly unique_id: string; readonly config?: unknown; readonly checksum?: { readonly checksum?: string }; readonly depends_on?: { readonly macros?: readonly string[] } };
type ComparableManifest = {
  readonly nodes: Readonly<Record<string, ComparableNode>>;
  readonly sources?: Readonly<Record<string, ComparableNode>>;
  readonly macros?: Readonly<Record<string, { readonly checksum: string }>>;
};

/**
 * `state:` selection against an earlier manifest (from `--state DIR`, or the one `kiln watch`
 * keeps in memory). Sources are compared too, by config: without them every source would
 * count as new, and `state:modified+` would select everything downstream of any source.
 */
export function compareWithManifest(previous: ComparableManifest, current: ComparableManifest): SelectionState {
  const entries = [...Object.values(previous.nodes), ...Object.values(previous.sources ?? {})];
  const oldMacros = previous.macros ?? {};
  const changed = new Set<string>();
  for (const [id, m] of Object.entries(current.macros ?? {})) {
    if (oldMacros[id]?.checksum !== m.checksum) changed.add(id);
  }
  return {
    previous: new Map(entries.map((n) => [n.unique_id, { checksum: n.checksum?.checksum, config: n.config, macros: n.depends_on?.macros }])),
    modifiedMacros: changed,
    macroDependencies: new Map(Object.values(current.nodes).map((n) => [n.unique_id, n.depends_on?.macros ?? []])),
  };
}
