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
  if (asksForResults(options)) out.results = lastRunStatuses(options, projectRoot, targetDir);
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
