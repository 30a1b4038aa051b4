import type { RelationInfo } from '../adapters/adapter.js';
import type { Relation } from '../adapters/ddl.js';
import type { Manifest, ManifestNode } from '../compile/manifest.js';
import type { Dag } from '../graph/dag.js';

/** Tables and views that exist when the run starts, by `database.name`. */
export interface WarehouseState {
  readonly relations: ReadonlyMap<string, RelationInfo>;
}

export const relationKey = (r: Relation) => `${r.database}.${r.name}`;

export type StepKind = 'seed' | 'model' | 'snapshot';

export interface PlanStep {
  readonly uniqueId: string;
  readonly kind: StepKind;
  readonly name: string;
  readonly materialization: string;
  readonly relation: Relation;
  readonly existing: RelationInfo | undefined;
  /** The node's graph parents; execute/link-steps resolves them to what actually runs. */
  readonly deps: readonly string[];
  /** What a person reads in the progress line, e.g. "table model analytics.dim_content". */
  readonly label: string;
}

/**
 * Pure: (manifest, selection, warehouse state) → ordered steps. `--dry-run` and tests can call
 * it without a database by passing an empty state.
 */
export function planNodes(
  manifest: Manifest,
  dag: Dag,
  selected: ReadonlySet<string>,
  state: WarehouseState,
  kinds: ReadonlySet<StepKind>,
): PlanStep[] {
  const planned = (id: string) => {
    const node = manifest.nodes[id];
    return node !== undefined && selected.has(id) && kinds.has(node.resource_type) && executable(node);
  };
  const steps: PlanStep[] = [];
  for (const id of dag.topologicalOrder()) {
    if (!planned(id)) continue;
    const node = manifest.nodes[id]!;
    const relation = { database: node.database, name: node.alias };
    const materialization = node.resource_type === 'seed' ? 'seed' : String(node.config.materialized ?? 'view');
    steps.push({
      uniqueId: id,
      kind: node.resource_type,
      name: node.name,
      materialization,
      relation,
      existing: state.relations.get(relationKey(relation)),
      deps: dag.parents(id),
      label: `${materialization === 'seed' ? 'seed file' : materialization === 'snapshot' ? 'snapshot' : `${materialization} model`} ${relation.database}.${relation.name}`,
    });
  }
  return steps;
}

function executable(node: ManifestNode): boolean {
  return node.resource_type === 'seed' || node.config.materialized !== 'ephemeral';
}

/** For each node, its nearest ancestors that satisfy `planned`, looking through the others. */
export function planAncestors(dag: Dag, planned: (id: string) => boolean): (id: string) => string[] {
  const memo = new Map<string, string[]>();
  const through = (id: string): string[] => {
    const cached = memo.get(id);
    if (cached) return cached;
    const out = new Set<string>();
    for (const p of dag.parents(id)) {
      if (planned(p)) out.add(p);
      else for (const a of through(p)) out.add(a);
    }
    const list = [...out];
    memo.set(id, list);
    return list;
  };
  return through;
}
