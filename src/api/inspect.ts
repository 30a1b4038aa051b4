import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { previewRows } from '../adapters/ddl.js';
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

/** `kiln show <model>`: runs the model's query (not its relation) and returns the first rows. */
export async function show(options: InvocationOptions & { model: string; limit: number }): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const inv = openInvocation({ ...options, select: [] });
  const { manifest } = inv.compiled;
  const node = Object.values(manifest.nodes).find((n) => n.name === options.model && n.resource_type === 'model') as ModelManifestNode | undefined;
  if (!node) {
    const names = Object.values(manifest.nodes).map((n) => n.name);
    throw new KilnError('UNKNOWN_REF', `no model named '${options.model}'`, { hint: didYouMean(options.model, names) ?? 'list models with `kiln ls`' });
  }
  const adapter = await connectWarehouse(inv, 'show');
  try {
    const exec = inv.compiled.execution.models[node.unique_id];
    const sql = exec && 'sql' in exec ? modelSql(inv.compiled.execution, exec, { isIncremental: false, style: adapter.ephemeralStyle }) : node.compiled_code;
    const r = await adapter.query<Record<string, unknown>>(previewRows(sql, options.limit));
    const columns = r.rows[0] ? Object.keys(r.rows[0]) : [];
    return { columns, rows: r.rows };
  } catch (err) {
    if (err instanceof KilnError && err.code === 'SQL_ERROR') {
      throw new KilnError('SQL_ERROR', err.message, { location: { file: node.original_file_path }, hint: `compiled SQL: ${node.compiled_path}` });
    }
    throw err;
  } finally {
    await adapter.close();
  }
}

/** `kiln clean`: removes target/. */
export function clean(options: InvocationOptions): string {
  const project = loadProject({ ...(options.projectDir ? { projectDir: options.projectDir } : {}) });
  const dir = join(project.root, project.config.targetPath);
  rmSync(dir, { recursive: true, force: true });
  return dir;
}
