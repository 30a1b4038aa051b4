import type { Adapter } from '../adapters/adapter.js';
import type { RunContext } from '../execute/phase.js';
import { prepareWarehouse } from '../execute/prepare-warehouse.js';
import { Dag } from '../graph/dag.js';
import { lastRunStatuses, selectableNodes } from '../graph/selection-state.js';
import { selectNodes, type SelectionState } from '../graph/selector.js';
import { wholeDatabaseTable, type SourceNode, type WholeDatabaseSource } from '../project/nodes.js';
import { listMySqlTables, type DumpFiles } from './mysql-loader.js';
import { stageTableOf, type MySqlTable } from './source-options.js';

/**
 * The tables of whole-database sources (no `tables:`) that no model or test reads, so compile made
 * no node for them: listed in the database or dump at stage time, since EL loads everything. Each
 * is selected as if it were a node (`source:app`, `source:app.users`, `--exclude`, `result:error`),
 * and the database is only asked when the selection could pick one of them.
 */
export async function unreadWholeDatabaseTables(run: RunContext, adapter: Adapter, dumps: DumpFiles): Promise<MySqlTable[]> {
  const { parsed, project } = run.compiled;
  if (parsed.wholeDatabaseSources.length === 0) return [];
  // As the invocation read them for its own selection.
  const results = lastRunStatuses(run.options, project.root, run.targetDir);
  if (narrowed(run, results)) return [];
  const picks = selectionOf(run, results);
  const out: MySqlTable[] = [];
  for (const w of parsed.wholeDatabaseSources) {
    if (w.options.enabled === false) continue;
    const nodeOf = (table: string) => wholeDatabaseTable(project.config.name, w, table);
    if (!candidateNames(run, w, results).some((t) => picks(nodeOf(t)))) continue;
    const read = new Set(parsed.sources.filter((s) => s.sourceName === w.sourceName).map((s) => s.tableName));
    const anyTable = stageTableOf(nodeOf(PROBE), project.root, project.target.raw_database) as MySqlTable;
    for (const name of await listMySqlTables(adapter, anyTable, dumps)) {
      const node = nodeOf(name);
      if (!read.has(name) && picks(node)) out.push(stageTableOf(node, project.root, project.target.raw_database) as MySqlTable);
    }
  }
  // As prepareWarehouse does for the tables compile knows: their databases, and leftovers of a killed run.
  if (out.length) await prepareWarehouse(adapter, out.map((t) => t.relation), { dropLeftovers: run.holdsTargetLock === true });
  return out;
}

/**
 * True when the invocation runs fewer nodes than its --select/--exclude pick: a `kiln watch`
 * rebuild runs what changed, and tables no node stands for have not changed.
 */
function narrowed(run: RunContext, results: ReadonlyMap<string, string>): boolean {
  const { select, exclude } = run.options;
  const selectors = [...(select ?? []), ...(exclude ?? [])];
  // state: needs the --state manifest, which the invocation keeps to itself: take the selection as given.
  if (selectors.some((s) => s.includes('state:'))) return false;
  const nodes = selectableNodes(run.compiled.manifest);
  const picked = selectors.length ? selectNodes(nodes, run.compiled.dag, select, exclude, { results }) : nodes.map((n) => n.uniqueId);
  return [...picked].some((id) => !run.selected.has(id));
}

/** Stands for "any table" of a source: a name selectors do not spell, unless they mean every table. */
const PROBE = '*';

/** Whether the invocation's --select/--exclude picks a source table node. */
function selectionOf(run: RunContext, results: ReadonlyMap<string, string>): (node: SourceNode) => boolean {
  const { select, exclude } = run.options;
  if (!select?.length && !exclude?.length) return () => true;
  // No manifest ever held these tables: to state: they are new. result: reads the last run's results.
  const state: SelectionState = { previous: new Map(), results };
  const graph = new Dag([]);
  return (node) => {
    const selectable = {
      uniqueId: node.uniqueId,
      name: node.name,
      resourceType: 'source',
      originalFilePath: node.originalFilePath,
      fqn: node.fqn,
      tags: (node.config.tags as string[] | undefined) ?? [],
      sourceName: node.sourceName,
      config: node.config,
    };
    return selectNodes([selectable], graph, select, exclude, state).has(node.uniqueId);
  };
}

/**
 * Table names that could be selected without listing the database: the probe (selectors that do
 * not name a table, like `source:app`), the tables selectors spell (`source:app.users`,
 * `app.users`, `fqn:proj.app.users`), and the source's tables in the last run's results.
 */
function candidateNames(run: RunContext, w: WholeDatabaseSource, results: ReadonlyMap<string, string>): string[] {
  if (!run.options.select?.length) return [PROBE];
  const prefix = `${w.sourceName}.`;
  const spelled = run.options.select.flatMap((s) => s.split(/[\s,:@+]+/)).flatMap((atom) => {
    const at = atom.indexOf(prefix);
    return at === 0 || (at > 0 && atom[at - 1] === '.') ? [atom.slice(at + prefix.length)] : [];
  });
  const idPrefix = `source.${run.compiled.project.config.name}.${prefix}`;
  const earlier = [...results.keys()].filter((id) => id.startsWith(idPrefix)).map((id) => id.slice(idPrefix.length));
  return [PROBE, ...spelled, ...earlier];
}
