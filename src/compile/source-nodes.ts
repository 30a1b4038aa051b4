import { KilnError } from '../errors.js';
import { sourceDatabase, wholeDatabaseTable, type ParsedProject, type SourceNode } from '../project/nodes.js';

/**
 * The project's source nodes: the declared tables, plus one node for each table of a
 * whole-database source that a model or test reads (sorted, so manifests are reproducible).
 */
export function sourceNodesRead(parsed: ParsedProject, projectName: string, rawDatabase: string, read: Iterable<readonly [string, string]>): SourceNode[] {
  const whole = new Map(parsed.wholeDatabaseSources.map((w) => [w.sourceName, w]));
  // A recompile's parsed project already holds the previous compile's nodes: start from the declared ones.
  const declared = parsed.sources.filter((s) => !whole.has(s.sourceName));
  const rawName = (s: SourceNode) => `${sourceDatabase(s, rawDatabase)}.${s.identifier}`;
  const loadsInto = new Map(declared.map((s) => [rawName(s), `${s.sourceName}.${s.tableName}`]));
  const tables = new Map<string, SourceNode>();
  for (const [s, t] of read) {
    const w = whole.get(s);
    if (!w || tables.has(`${s}.${t}`)) continue;
    const node = wholeDatabaseTable(projectName, w, t);
    const prior = loadsInto.get(rawName(node));
    if (prior) {
      throw new KilnError('DUPLICATE_NODE', `source tables ${prior} and ${s}.${t} would both load into ${rawName(node)}`, {
        location: w.patch,
        hint: 'rename a source or a table, or set identifier: on the declared one',
      });
    }
    tables.set(`${s}.${t}`, node);
  }
  return [...declared, ...[...tables.values()].sort((a, b) => (a.uniqueId < b.uniqueId ? -1 : a.uniqueId > b.uniqueId ? 1 : 0))];
}
