import { statSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { watch as watchFiles, type FSWatcher } from 'chokidar';
import type { Manifest } from '../compile/manifest.js';
import { KilnError, KilnErrors } from '../errors.js';
import type { Reporter } from '../report/events.js';
import type { NodeResult } from '../report/run-results.js';
import { classifyChange, dataGlobs, ignoredRoots, isUnder, watchRoots, type DataGlob } from '../watch/file-changes.js';
import { rebuildSelection } from '../watch/rebuild-selection.js';
import { compareWithManifest, selectableNodes, type ComparableManifest } from '../graph/selection-state.js';
import { openInvocation, reopenInvocation } from './invocation.js';
import type { InvocationOptions } from './options.js';
import { buildPhases, executeCommand } from './run.js';
import { openWarehouse } from './warehouse.js';

/** One rebuild, as the watch line reports it. */
export interface RebuildReport {
  /** Changed files, relative to the project folder. */
  readonly changed: readonly string[];
  /** Names of the models, seeds and sources rebuilt (tests not included). */
  readonly rebuilt: readonly string[];
  readonly results: readonly NodeResult[];
  /** From the first change event to the recompiled manifest. */
  readonly compileMs: number;
  /** performance.now() when the manifest was recompiled (benchmarks compare it with a save time). */
  readonly compiledAt: number;
  readonly elapsedMs: number;
}

/** Options of `watch`: the shared flags plus how rebuilds are reported. */
export interface WatchOptions extends InvocationOptions {
  /** Quiet time after the last file event before a rebuild starts (default 150 ms); it also folds an editor's several writes of one save into one rebuild. */
  readonly debounceMs?: number;
  /** Reporter for the first build (per-node lines); rebuilds report through onRebuild. */
  readonly onRebuild?: (report: RebuildReport) => void;
  /** A rebuild that could not start (bad YAML, unknown ref…): reported, and watching goes on. */
  readonly onError?: (error: KilnError | KilnErrors | Error, changed: readonly string[]) => void;
}

/** A running `kiln watch`. */
export interface WatchSession {
  /** The first build's results. */
  readonly initial: readonly NodeResult[];
  /** Resolves after each rebuild completes; for tests and benchmarks. */
  idle(): Promise<void>;
  /** Stops watching, waits for a running rebuild and closes the warehouse (releasing its lock). */
  close(): Promise<void>;
}

const quiet: Reporter = { emit: () => undefined };

/**
 * `kiln watch`: builds once, then on each change of a model, macro, YAML, seed or source file
 * recompiles (only the edited model files when nothing else changed: see recompileProject),
 * rebuilds the changed nodes and everything downstream (state:modified+
 * against the previous build's manifest, held in memory) and runs their tests; a new raw data
 * file of a source rebuilds that source and its dependants. One warehouse connection and the
 * target's lock are held from start to close.
 */
export async function watch(options: WatchOptions): Promise<WatchSession> {
  let inv = openInvocation(options);
  const root = inv.compiled.project.root;
  // The lock is held for the watch's lifetime, not per rebuild: a rebuild never waits for or loses
  // the target to another writer halfway through an editing session.
  const warehouse = await openWarehouse(inv, 'watch', true);
  let watcher: FSWatcher | undefined;
  try {
    const first = await executeCommand('build', options, buildPhases(), { invocation: inv, warehouse });
    let previous = comparable(inv.compiled.manifest);
    let globs: DataGlob[] = dataGlobs(root, inv.compiled.parsed);
    let pending = new Set(first.results.filter((r) => r.status !== 'success' && r.status !== 'pass' && r.status !== 'warn').map((r) => r.unique_id));
    const ignored = ignoredRoots(root, inv.compiled.project.config, inv.compiled.project.target.path);

    const changes = new Map<string, number>(); // path → time of its first event
    const unapplied = new Set<string>();
    const seen = new Map<string, number | undefined>(); // path → mtime when a rebuild last read it
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    let closed = false;
    const waiters: Array<() => void> = [];

    const rebuild = async (): Promise<void> => {
      const batch = new Map(changes);
      changes.clear();
      if (batch.size === 0 || closed) return;
      const t0 = Math.min(...batch.values());
      const paths = [...batch.keys()];
      for (const p of paths) seen.set(p, mtimeOf(p));
      // chokidar drops a change that lands just after one it reported; look again once this rebuild is done.
      const recheck = () => {
        const timer = setTimeout(() => {
          if (closed) return;
          // Compared with the newest version any rebuild read, so a save already rebuilt is not rebuilt twice.
          const missed = paths.filter((p) => mtimeOf(p) !== seen.get(p));
          for (const p of missed) if (!changes.has(p)) changes.set(p, performance.now());
          if (missed.length) schedule();
        }, RECHECK_MS);
        timer.unref();
      };
      const rel = paths.map((p) => relative(root, p).split(sep).join('/'));
      let projectFiles: string[] = [];
      let compiled = false;
      try {
        const kinds = paths.map((p) => classifyChange(p, root, inv.compiled.project.config, globs));
        projectFiles = rel.filter((_, i) => kinds[i]!.kind === 'project');
        const projectChanged = projectFiles.length > 0 || unapplied.size > 0;
        // Files of a rebuild that failed to compile are not in `inv` yet: compile them again too.
        const prepared = projectChanged
          ? reopenInvocation(inv, [...new Set([...unapplied, ...projectFiles])], { ...options, reporter: forwardWarnings(options.reporter) })
          : undefined;
        const compiledAt = performance.now();
        const compileMs = compiledAt - t0;
        // Selected and written after the in-memory manifest is ready: serializing a large manifest takes longer than recompiling.
        const next = prepared ? prepared.finish() : inv;
        unapplied.clear();
        compiled = true;
        inv = next;
        const nodes = selectableNodes(next.compiled.manifest);
        const touched = new Set(nodes.filter((n) => rel.includes(n.originalFilePath)).map((n) => n.uniqueId));
        const sources = new Set(kinds.flatMap((k) => (k.kind === 'data' ? k.sourceIds : [])));
        const selected = rebuildSelection({
          nodes,
          dag: next.compiled.dag,
          state: projectChanged ? compareWithManifest(previous, comparable(next.compiled.manifest)) : null,
          touched,
          sources,
          pending,
          scope: options.select?.length || options.exclude?.length ? next.selected : undefined,
        });
        previous = comparable(next.compiled.manifest);
        globs = dataGlobs(root, next.compiled.parsed);
        const outcome = await executeCommand('build', options, buildPhases(), {
          invocation: { ...next, selected, reporter: forwardProblems(options.reporter) },
          warehouse,
        });
        pending = new Set(outcome.results.filter((r) => r.status === 'error' || r.status === 'fail' || r.status === 'skipped').map((r) => r.unique_id));
        const byId = new Map(nodes.map((n) => [n.uniqueId, n]));
        const rebuilt = outcome.results
          .map((r) => byId.get(r.unique_id))
          .filter((n) => n !== undefined && (n.resourceType === 'model' || n.resourceType === 'snapshot' || n.resourceType === 'seed' || n.resourceType === 'source'))
          .map((n) => (n!.resourceType === 'source' ? `${n!.sourceName}.${n!.name}` : n!.name));
        options.onRebuild?.({ changed: rel, rebuilt, results: outcome.results, compileMs, compiledAt, elapsedMs: performance.now() - t0 });
      } catch (err) {
        if (!(err instanceof KilnError || err instanceof KilnErrors || err instanceof Error)) throw err;
        if (!compiled) for (const file of projectFiles) unapplied.add(file);
        options.onError?.(err, rel);
      } finally {
        recheck();
      }
    };

    const schedule = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        running = running.then(rebuild).finally(() => {
          if (!timer && changes.size === 0) for (const w of waiters.splice(0)) w();
        });
      }, options.debounceMs ?? 150);
    };

    watcher = watchFiles(watchRoots(root, globs), {
      ignoreInitial: true,
      ignored: (path: string) => ignored.some((dir) => isUnder(path, dir)),
    });
    watcher.on('all', (event, path) => {
      if (closed || (event !== 'add' && event !== 'change' && event !== 'unlink')) return;
      if (classifyChange(path, root, inv.compiled.project.config, globs).kind === 'ignored') return;
      if (!changes.has(path)) changes.set(path, performance.now());
      schedule();
    });
    await new Promise<void>((resolve, reject) => {
      watcher!.once('ready', () => resolve());
      watcher!.once('error', reject);
    });

    const w = watcher;
    return {
      initial: first.results,
      idle: () => new Promise<void>((resolve) => waiters.push(resolve)),
      async close() {
        if (closed) return;
        closed = true;
        if (timer) clearTimeout(timer);
        await w.close();
        await running.catch(() => undefined);
        await warehouse.close();
      },
    };
  } catch (err) {
    await watcher?.close();
    await warehouse.close();
    throw err;
  }
}

/** During rebuilds only warnings pass through; the rebuild line replaces per-node output. */
function forwardWarnings(reporter: Reporter | undefined): Reporter {
  if (!reporter) return quiet;
  return { emit: (e) => (e.type === 'warning' ? reporter.emit(e) : undefined) };
}

const PROBLEMS = new Set(['error', 'fail', 'warn']);

/**
 * A rebuild is one line, plus what needs reading as `build` prints it: warnings, and each node
 * that errored, failed or warned with its message (the SQL error, the failing rows).
 */
function forwardProblems(reporter: Reporter | undefined): Reporter {
  if (!reporter) return quiet;
  return {
    emit: (e) => {
      if (e.type === 'warning' || (e.type === 'node_done' && PROBLEMS.has(e.result.status))) reporter.emit(e);
    },
  };
}

/** The in-memory manifest with its tests among the nodes, as the artifact on disk has them. */
function comparable(manifest: Manifest): ComparableManifest {
  const extra = manifest as unknown as { tests?: Record<string, never>; unit_tests?: Record<string, never> };
  return { nodes: { ...manifest.nodes, ...(extra.tests ?? {}), ...(extra.unit_tests ?? {}) }, sources: manifest.sources, macros: manifest.macros };
}

/** How long after a rebuild kiln looks again for saves the watcher did not report. */
const RECHECK_MS = 150;

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined; // deleted: the watcher reports unlinks
  }
}
