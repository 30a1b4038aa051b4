import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Manifest } from '../compile/manifest.js';
import { KilnError } from '../errors.js';
import { readRunResults } from '../report/run-results.js';
import type { SelectableNode, SelectionState } from './selector.js';

/** The selection flags of a command: what `--select`/`--exclude` pick, and `--state` for `state:` and `result:`. */
export interface SelectionOptions {
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  /** Folder holding an earlier manifest.json (and run_results.json) for state: / result: selectors. */
  readonly state?: string;
}

/** Every manifest node as selection sees it: models and seeds, sources, then data and unit tests. */
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

/**
 * What `state:` and `result:` selectors compare against: the manifest in `--state DIR`, and the
 * last run's results (from that folder, else from `targetDir`) when a selector asks for `result:`.
 */
export function readSelectionState(options: SelectionOptions, projectRoot: string, targetDir: string, manifest: Manifest): SelectionState {
  const out: { -readonly [K in keyof SelectionState]: SelectionState[K] } = {};
  if (options.state) {
    const dir = resolve(projectRoot, options.state);
    const file = join(dir, 'manifest.json');
    if (!existsSync(file)) {
      throw new KilnError('STATE_INVALID', `--state ${options.state}: no manifest.json in ${dir}`, {
        hint: 'point --state at a folder with the manifest.json of the run to compare against',
      });
    }
    Object.assign(out, compareWithManifest(JSON.parse(readFileSync(file, 'utf8')) as Manifest, manifest));
  }
  if (asksForResults(options)) {
    const statuses = lastRunStatuses(options, projectRoot, targetDir);
    const dir = options.state ? resolve(projectRoot, options.state) : targetDir;
    out.results = carryOverRenamedTests(statuses, readManifestQuietly(join(dir, 'manifest.json')), manifest);
  }
  return out;
}

type TestLike = {
  readonly unique_id: string;
  readonly resource_type: string;
  readonly attached_node?: string | null;
  readonly column_name?: string | null;
  readonly test_metadata?: { readonly name: string } | undefined;
  readonly original_file_path?: string;
};

function readManifestQuietly(file: string): { readonly nodes?: Readonly<Record<string, TestLike>> } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { nodes?: Record<string, TestLike> };
  } catch {
    return undefined;
  }
}

/**
 * A data test's unique id holds its arguments, so editing them (accepted_values gaining a value)
 * renames it. A test of the last run that is gone from the project now hands its status on to
 * the test that took its place: the same test on the same node and column (generic), or the
 * same file (singular), that the last run did not know. So `result:fail` and `kiln retry` still
 * rerun the edited test instead of silently dropping it.
 */
export function carryOverRenamedTests(
  statuses: ReadonlyMap<string, string>,
  previous: { readonly nodes?: Readonly<Record<string, TestLike>> } | undefined,
  current: Manifest,
): ReadonlyMap<string, string> {
  const gone = [...statuses].filter(([id]) => id.startsWith('test.') && current.tests[id] === undefined);
  if (gone.length === 0 || !previous?.nodes) return statuses;
  const out = new Map(statuses);
  const identity = (t: TestLike) =>
    t.test_metadata ? `generic\u0000${t.attached_node ?? ''}\u0000${t.test_metadata.name}\u0000${t.column_name ?? ''}` : `singular\u0000${t.original_file_path ?? ''}`;
  const successors = new Map<string, string[]>();
  for (const t of Object.values(current.tests)) {
    if (statuses.has(t.unique_id) || previous.nodes[t.unique_id]) continue;
    const key = identity(t);
    successors.set(key, [...(successors.get(key) ?? []), t.unique_id]);
  }
  for (const [id, status] of gone) {
    const before = previous.nodes[id];
    if (!before || before.resource_type !== 'test') continue;
    for (const next of successors.get(identity(before)) ?? []) if (!out.has(next)) out.set(next, status);
  }
  return out;
}

/**
 * unique id → status of the last run when a selector asks for `result:` (empty otherwise, or
 * when there was no run): read from the `--state` folder if given, else from `targetDir`.
 */
export function lastRunStatuses(options: SelectionOptions, projectRoot: string, targetDir: string): Map<string, string> {
  if (!asksForResults(options)) return new Map();
  const dir = options.state ? resolve(projectRoot, options.state) : targetDir;
  const previous = readRunResults(join(dir, 'run_results.json'));
  return new Map(previous?.results.map((r) => [r.unique_id, r.status]) ?? []);
}

function asksForResults(options: SelectionOptions): boolean {
  return [...(options.select ?? []), ...(options.exclude ?? [])].some((s) => s.includes('result:'));
}

type ComparableNode = { readonly unique_id: string; readonly config?: unknown; readonly checksum?: { readonly checksum?: string }; readonly depends_on?: { readonly macros?: readonly string[] } };

/** The parts of a manifest `state:` compares: a manifest.json on disk, or one `kiln watch` holds in memory. */
export type ComparableManifest = {
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
