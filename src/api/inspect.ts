import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ddl from '../adapters/ddl.js';
import { previewRows } from '../adapters/ddl.js';
import { sourceTableIs } from '../adapters/staging-sql.js';
import { compileInlineSql } from '../compile/inline-sql.js';
import { quarantineOf } from '../stage/ledger.js';
import { KilnError } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import { loadProject } from '../project/load-project.js';
import { selectableNodes } from '../graph/selection-state.js';
import { countNodes, openInvocation } from './invocation.js';
import type { InvocationOptions } from './options.js';
import { connectWarehouse } from './warehouse.js';
import { modelSql } from '../compile/execution-manifest.js';
import type { ModelManifestNode } from '../compile/manifest.js';
import type { Invocation } from './invocation.js';

/** `kiln compile`: manifest and compiled SQL, no database. */
export function compile(options: InvocationOptions): { invocation: Invocation; counts: Record<string, number> } {
  const invocation = openInvocation(options);
  return { invocation, counts: countNodes(invocation.compiled) };
}

/** One node as `kiln ls --output json` prints it, one JSON line each. */
export interface ListedNode {
  readonly unique_id: string;
  readonly name: string;
  readonly resource_type: string;
  readonly original_file_path: string;
  readonly materialized?: string;
  readonly tags: readonly string[];
  readonly depends_on: readonly string[];
}

/** `kiln ls`: the selected nodes in DAG order, then their tests. */
export function list(options: InvocationOptions & { resourceTypes?: readonly string[] }): ListedNode[] {
  const inv = openInvocation(options);
  const { manifest, dag } = inv.compiled;
  const byId = new Map(selectableNodes(manifest).map((n) => [n.uniqueId, n]));
  // Graph nodes in DAG order, then the tests (they hang off the graph, outside it).
  const inGraph = dag.topologicalOrder().filter((id) => inv.selected.has(id));
  const tests = [...byId.keys()].filter((id) => inv.selected.has(id) && !dag.has(id)).sort();
  return [...inGraph, ...tests]
    .map((id) => byId.get(id)!)
    .filter((n) => !options.resourceTypes?.length || options.resourceTypes.includes(n.resourceType))
    .map((n) => ({
      unique_id: n.uniqueId,
      name: n.resourceType === 'source' ? `${n.sourceName}.${n.name}` : n.name,
      resource_type: n.resourceType,
      original_file_path: n.originalFilePath,
      ...(typeof n.config.materialized === 'string' ? { materialized: n.config.materialized } : {}),
      tags: n.tags,
      depends_on: dag.has(n.uniqueId) ? dag.parents(n.uniqueId).sort() : [...(n.attachedTo ?? [])].sort(),
    }));
}

/** What `kiln show` previews: a model's query, a relation by name, an inline query, or the quarantine. */
export type ShowRequest =
  /** A model (its query), a seed, a source as `source.table`, or a warehouse relation as `database.table`. */
  | { readonly model: string }
  /** A query written like a model: `{{ ref('x') }}`, `{{ source('a', 'b') }}`, vars and macros work. */
  | { readonly inline: string }
  /** Rejected records: all of them (`true`) or one source table's (`source.table`). */
  | { readonly quarantine: true | string };

export interface ShownRows {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
}

/** `kiln show`: runs the query (for a model, its query, not its relation) and returns the first rows. */
export async function show(options: InvocationOptions & ShowRequest & { limit: number }): Promise<ShownRows> {
  const inv = openInvocation({ ...options, select: [] });
  const adapter = await connectWarehouse(inv, 'show');
  try {
    const { sql, location } = await showQuery(inv, adapter, options);
    if (sql === null) return { columns: [], rows: [] };
    try {
      const r = await adapter.query<Record<string, unknown>>(previewRows(sql, options.limit));
      const columns = r.rows[0] ? Object.keys(r.rows[0]) : [];
      return { columns, rows: r.rows };
    } catch (err) {
      if (err instanceof KilnError && err.code === 'SQL_ERROR' && location) {
        throw new KilnError('SQL_ERROR', err.message, { location: { file: location.file }, ...(location.hint ? { hint: location.hint } : {}) });
      }
      throw err;
    }
  } finally {
    await adapter.close();
  }
}

interface ShowQuery {
  /** null: nothing to read (no quarantine table yet). */
  readonly sql: string | null;
  /** Where an SQL error points: the model file, or `--inline`. */
  readonly location?: { readonly file: string; readonly hint?: string };
}

async function showQuery(inv: Invocation, adapter: Awaited<ReturnType<typeof connectWarehouse>>, request: ShowRequest): Promise<ShowQuery> {
  const { manifest, execution, project } = inv.compiled;
  if ('inline' in request) {
    const sql = compileInlineSql(inv.compiled, request.inline, { invocationId: inv.invocationId, runStartedAt: inv.startedAt, style: adapter.ephemeralStyle });
    return { sql, location: { file: '--inline' } };
  }
  const sources = Object.values(manifest.sources);
  if ('quarantine' in request) {
    const source = request.quarantine === true ? undefined : sources.find((n) => `${n.source_name}.${n.name}` === request.quarantine);
    if (request.quarantine !== true && !source) {
      throw unknownName(request.quarantine, sources.map((n) => `${n.source_name}.${n.name}`), 'no source table has that name (source.table)');
    }
    const quarantine = quarantineOf(source?.database ?? project.target.raw_database);
    // Nothing staged yet, so nothing rejected: no rows rather than an unknown-table error.
    const present = await adapter.listRelations([quarantine.database]);
    if (!present.some((r) => r.name === quarantine.name)) return { sql: null };
    return { sql: ddl.selectAll(quarantine, source ? sourceTableIs(source.source_name, source.name) : undefined) };
  }
  const name = request.model;
  const nodes = Object.values(manifest.nodes);
  const model = nodes.find((n) => n.name === name && (n.resource_type === 'model' || n.resource_type === 'snapshot')) as ModelManifestNode | undefined;
  if (model) {
    const exec = execution.models[model.unique_id];
    const sql = exec && 'sql' in exec ? modelSql(execution, exec, { isIncremental: false, style: adapter.ephemeralStyle }) : model.compiled_code;
    return { sql, location: { file: model.original_file_path, hint: `compiled SQL: ${model.compiled_path}` } };
  }
  const seed = nodes.find((n) => n.name === name && n.resource_type === 'seed');
  if (seed?.resource_type === 'seed') return { sql: ddl.selectAll({ database: seed.database, name: seed.alias }) };
  const source = sources.find((n) => `${n.source_name}.${n.name}` === name);
  if (source) return { sql: ddl.selectAll({ database: source.database, name: source.identifier }) };
  const dot = name.indexOf('.');
  if (dot > 0) {
    const relation = { database: name.slice(0, dot), name: name.slice(dot + 1) };
    const present = await adapter.listRelations([relation.database]);
    if (present.some((r) => r.name === relation.name)) return { sql: ddl.selectAll(relation) };
    const names = [...present.map((r) => `${r.database}.${r.name}`), ...sources.map((n) => `${n.source_name}.${n.name}`)];
    throw unknownName(name, names, `no source table, and no relation ${relation.name} in database ${relation.database}`);
  }
  const names = [...nodes.map((n) => n.name), ...sources.map((n) => `${n.source_name}.${n.name}`)];
  throw unknownName(name, names, 'list models and sources with `kiln ls`; a raw table is database.table');
}

function unknownName(name: string, names: readonly string[], otherwise: string): KilnError {
  return new KilnError('UNKNOWN_REF', `nothing to show named '${name}'`, { hint: didYouMean(name, names) ?? otherwise });
}

/** `kiln clean`: removes target/. */
export function clean(options: InvocationOptions): string {
  const project = loadProject({ ...(options.projectDir ? { projectDir: options.projectDir } : {}) });
  const dir = join(project.root, project.config.targetPath);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}
