import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors.js';

/**
 * The artifacts the docs site is built from, read as JSON from `target/`. Typed loosely on
 * purpose: the site reads what is there (tests, unit tests and staging arrive in the manifest
 * over time) and shows the rest as absent, instead of depending on the compiler's types.
 */

export interface ArtifactColumn {
  readonly name: string;
  readonly description?: string;
  readonly data_type?: string | null;
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface ArtifactNode {
  readonly unique_id: string;
  readonly resource_type: string;
  readonly name: string;
  readonly original_file_path?: string;
  readonly path?: string;
  readonly fqn?: readonly string[];
  readonly description?: string;
  readonly columns?: Readonly<Record<string, ArtifactColumn>>;
  readonly tags?: readonly string[];
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly config?: Readonly<Record<string, unknown>>;
  readonly depends_on?: { readonly nodes?: readonly string[] };
  readonly database?: string;
  readonly schema?: string;
  readonly alias?: string;
  readonly identifier?: string;
  readonly relation_name?: string | null;
  readonly raw_code?: string;
  readonly compiled_code?: string;
  readonly compiled_path?: string;
  /** A materialized_view model's ClickHouse views, each with the nodes whose inserts feed it. */
  readonly materialized_views?: ReadonlyArray<{ readonly name: string; readonly depends_on?: { readonly nodes?: readonly string[] } }>;
  // sources
  readonly source_name?: string;
  readonly loader?: string;
  readonly freshness?: unknown;
  readonly loaded_at_field?: string | null;
  // tests
  readonly column_name?: string | null;
  readonly attached_node?: string | null;
  readonly test_metadata?: { readonly name?: string; readonly kwargs?: Readonly<Record<string, unknown>> };
  readonly model?: string;
}

export interface ManifestArtifact {
  readonly metadata: { readonly project_name?: string; readonly target_name?: string; readonly adapter_type?: string; readonly generated_at?: string; readonly invocation_id?: string };
  readonly nodes: Readonly<Record<string, ArtifactNode>>;
  readonly sources?: Readonly<Record<string, ArtifactNode>>;
  readonly unit_tests?: Readonly<Record<string, ArtifactNode>>;
}

export interface ArtifactResult {
  readonly unique_id: string;
  readonly status: string;
  readonly execution_time?: number;
  readonly rows_affected?: number | null;
  readonly failures?: number | null;
  readonly message?: string | null;
  readonly thread_id?: string;
  readonly timing?: ReadonlyArray<{ readonly name: string; readonly started_at?: string; readonly completed_at?: string }>;
}

export interface RunResultsArtifact {
  readonly metadata?: { readonly generated_at?: string; readonly invocation_id?: string };
  readonly results: readonly ArtifactResult[];
  readonly elapsed_time?: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new KilnError('STATE_INVALID', `${file}: cannot read the ${what}: ${(err as Error).message}`, {
      location: { file },
      hint: 'run `kiln compile` (or `kiln docs generate` without --no-compile) to write it again',
    });
  }
}

export function readManifestArtifact(targetDir: string): ManifestArtifact {
  const file = join(targetDir, 'manifest.json');
  if (!existsSync(file)) {
    throw new KilnError('STATE_INVALID', `no manifest at ${file}`, { hint: 'run `kiln compile` first, or `kiln docs generate` without --no-compile' });
  }
  const m = readJson<ManifestArtifact>(file, 'manifest');
  if (typeof m !== 'object' || m === null || typeof m.nodes !== 'object') {
    throw new KilnError('STATE_INVALID', `${file} is not a kiln/dbt manifest (no "nodes")`, { location: { file } });
  }
  return m;
}

/** The last run's results, or null when nothing ran yet (or the file is unreadable). */
export function readRunResultsArtifact(targetDir: string): RunResultsArtifact | null {
  const file = join(targetDir, 'run_results.json');
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunResultsArtifact;
    return Array.isArray(r?.results) ? r : null;
  } catch {
    return null;
  }
}
