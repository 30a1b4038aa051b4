import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { compileProject, type CompiledProject } from '../compile/compile-project.js';
import type { Manifest } from '../compile/manifest.js';
import { openTemplateCache } from '../compile/template-cache-file.js';
import { recompileProject } from '../compile/recompile-project.js';
import { writeChangedArtifacts, writeCompileArtifacts } from '../compile/write-artifacts.js';
import type { Warning } from '../errors.js';
import type { RunContext } from '../execute/phase.js';
import { readSelectionState, selectableNodes } from '../graph/selection-state.js';
import { selectNodes, type SelectionState } from '../graph/selector.js';
import { loadProject } from '../project/load-project.js';
import { silentReporter, type Reporter } from '../report/events.js';
import type { InvocationOptions } from './options.js';

/** One command's shared setup: the project compiled, artifacts written, nodes selected; its phases see it as a RunContext. */
export interface Invocation extends RunContext {
  readonly startedAt: Date;
  readonly options: InvocationOptions;
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
    ...(options.strict ? { strict: true } : {}),
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
      const state = readSelectionState(options, project.root, targetDir, compiled.manifest);
      writeCompileArtifacts(project.root, project.config.targetPath, compiled.manifest);
      templateCache.save();
      const selected = selectWith(options, compiled, state, reporter);
      return { invocationId, startedAt, compiled, reporter, options, targetDir, selected };
    },
  };
}

function selectAndReport(options: InvocationOptions, targetDir: string, compiled: CompiledProject, reporter: Reporter): ReadonlySet<string> {
  return selectWith(options, compiled, readSelectionState(options, compiled.project.root, targetDir, compiled.manifest), reporter);
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
