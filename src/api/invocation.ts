import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { compileProject, compileStateOf, type CompiledProject } from '../compile/compile-project.js';
import { forgetRecordedCompile, InputRecorder, restampManifest, unchangedCompile } from '../compile/compile-inputs.js';
import type { Manifest } from '../compile/manifest.js';
import { openTemplateCache } from '../compile/template-cache-file.js';
import { recompileProject } from '../compile/recompile-project.js';
import { writeChangedArtifacts, writeCompileArtifacts } from '../compile/write-artifacts.js';
import type { Warning } from '../errors.js';
import type { RunContext } from '../execute/phase.js';
import { readSelectionState, selectableNodes } from '../graph/selection-state.js';
import { selectNodes, type SelectionState } from '../graph/selector.js';
import { loadProject } from '../project/load-project.js';
import { diskProjectFiles, memoizedProjectFiles, type ProjectFiles } from '../project/project-files.js';
import { silentReporter, type Reporter } from '../report/events.js';
import type { InvocationOptions } from './options.js';

/** One command's shared setup: the project compiled, artifacts written, nodes selected; its phases see it as a RunContext. */
export interface Invocation extends RunContext {
  readonly startedAt: Date;
  readonly options: InvocationOptions;
}

/** Every command's compile records what it read, so a `kiln compile` after a `kiln build` is reused. */
export function openInvocation(options: InvocationOptions): Invocation {
  return prepareInvocation(options, recordedRead(options)).finish();
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
  if (!compiled) return prepareInvocation(options, recordedRead(options));
  const reporter = options.reporter ?? silentReporter;
  const before = previous.compiled.manifest;
  return {
    compiled,
    incremental: true,
    finish() {
      for (const warning of compiled.warnings) reporter.emit({ type: 'warning', warning });
      const selected = selectAndReport(options, targetDir, compiled, reporter);
      forgetRecordedCompile(targetDir);
      writeChangedArtifacts(project.root, project.config.targetPath, compiled.manifest, before);
      return { invocationId, startedAt, compiled, reporter, options, targetDir, selected };
    },
  };
}

/** The outcome of `kiln compile`: what it compiled, or that target/ already held it. */
export interface CompileOutcome {
  readonly counts: Readonly<Record<string, number>>;
  readonly targetPath: string;
  /** True when nothing the compile reads had changed and target/ was kept (see compile-inputs.ts). */
  readonly reused: boolean;
  /** The compile, when it ran (not reused): lets `--validate` check it without compiling again. */
  readonly invocation?: Invocation;
}

/**
 * `kiln compile`: when every input the last compile read is unchanged, target/ already holds this
 * compile's output, so only the manifest's invocation id and time are rewritten; otherwise a full
 * compile, which records its inputs for the next one.
 */
export function compileOrReuse(options: InvocationOptions): CompileOutcome {
  const env = options.env ?? process.env;
  const read = recordedRead(options);
  const { project, disk, key } = read;
  const targetDir = join(project.root, project.config.targetPath);
  if (!options.select?.length && !options.exclude?.length && !options.state) {
    const record = unchangedCompile(project.root, targetDir, disk, env, key);
    if (record && restampManifest(targetDir, { invocationId: randomUUID(), generatedAt: new Date().toISOString() })) {
      const reporter = options.reporter ?? silentReporter;
      for (const warning of record.warnings) reporter.emit({ type: 'warning', warning });
      return { counts: record.counts, targetPath: project.config.targetPath, reused: true };
    }
  }
  const invocation = prepareInvocation(options, read).finish();
  return { counts: countNodes(invocation.compiled), targetPath: project.config.targetPath, reused: false, invocation };
}

/** Nodes by resource type (sources apart): the line `kiln compile` ends with. */
export function countNodes(compiled: CompiledProject): Record<string, number> {
  const counts: Record<string, number> = { model: 0, snapshot: 0, seed: 0, source: Object.keys(compiled.manifest.sources).length };
  for (const n of Object.values(compiled.manifest.nodes)) counts[n.resource_type] = (counts[n.resource_type] ?? 0) + 1;
  return counts;
}

function loadProjectFrom(options: InvocationOptions, read: { files?: ProjectFiles; env?: Readonly<Record<string, string | undefined>> } = {}) {
  return loadProject({
    ...(options.projectDir ? { projectDir: options.projectDir } : {}),
    ...(options.target ? { target: options.target } : {}),
    ...(options.profilesDir ? { profilesDir: options.profilesDir } : {}),
    ...(options.vars ? { vars: options.vars } : {}),
    ...(read.env ? { env: read.env } : options.env ? { env: options.env } : {}),
    ...(read.files ? { files: read.files } : {}),
    ...(options.strict ? { strict: true } : {}),
  });
}

interface RecordedRead {
  readonly project: ReturnType<typeof loadProject>;
  readonly files: ProjectFiles;
  readonly recorder: InputRecorder;
  /** The project's files as read from disk (memoized), for checking a recorded compile against. */
  readonly disk: ProjectFiles;
  readonly key: string;
}

/** The project loaded through an InputRecorder keyed by what shapes the compile's output besides the files and env vars it reads. */
function recordedRead(options: InvocationOptions): RecordedRead {
  const env = options.env ?? process.env;
  const root = resolve(options.projectDir ?? process.cwd());
  // --strict and CI switch strict mode on; selection and run flags do not change the manifest.
  const key = JSON.stringify({ root, target: options.target ?? null, profilesDir: options.profilesDir ?? null, vars: options.vars ?? null, ci: env.CI ?? null, strict: options.strict === true });
  const recorder = new InputRecorder(key);
  // The check reads every input once; a compile after a miss reads them from memory, not again.
  const disk = memoizedProjectFiles(diskProjectFiles(root));
  const files = recorder.files(disk);
  const project = loadProjectFrom(options, { files, env: recorder.env(env) });
  return { project, files, recorder, disk, key };
}

function prepareInvocation(options: InvocationOptions, recorded: RecordedRead): PreparedInvocation {
  const reporter = options.reporter ?? silentReporter;
  const invocationId = randomUUID();
  const startedAt = new Date();
  const { project } = recorded;
  const targetDir = join(project.root, project.config.targetPath);
  const templateCache = openTemplateCache(targetDir);
  const compiled = compileProject(project, { invocationId, runStartedAt: startedAt, templateCache }, recorded.files);
  return {
    compiled,
    incremental: false,
    finish() {
      for (const warning of compiled.warnings) reporter.emit({ type: 'warning', warning });
      // Read --state before writing our own artifacts, in case it points at target/.
      const state = readSelectionState(options, project.root, targetDir, compiled.manifest);
      forgetRecordedCompile(targetDir);
      writeCompileArtifacts(project.root, project.config.targetPath, compiled.manifest);
      templateCache.save();
      recorded.recorder.save(targetDir, { reusable: !readsClock(compiled), counts: countNodes(compiled), warnings: compiled.warnings });
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

/** True when a template read the time or the invocation id: that output differs on every run. */
function readsClock(compiled: CompiledProject): boolean {
  return compileStateOf.get(compiled)?.readsClock ?? true;
}
