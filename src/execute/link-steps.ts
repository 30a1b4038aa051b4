import type { Dag } from '../graph/dag.js';
import { planAncestors } from '../plan/plan.js';
import type { ExecStep } from './run-steps.js';

/**
 * Rewrites the dependencies of steps from several phases (staging, seeds, models, tests) into
 * one executable DAG:
 * - a dependency on a node that is not executed becomes its nearest executed ancestors;
 * - `gates`: a step depending on node N also waits for every step gating N (N's data tests);
 * - `precedes`: the node waits for the step (a model waits for its unit tests).
 */
export function linkSteps(steps: readonly ExecStep[], dag: Dag): ExecStep[] {
  const ids = new Set(steps.map((s) => s.uniqueId));
  const nearest = planAncestors(dag, (id) => ids.has(id));
  const gatesOf = new Map<string, string[]>();
  const precededBy = new Map<string, string[]>();
  for (const s of steps) {
    for (const g of s.gates ?? []) push(gatesOf, g, s.uniqueId);
    for (const p of s.precedes ?? []) push(precededBy, p, s.uniqueId);
  }
  return steps.map((s) => {
    const deps = new Set<string>();
    const gating = new Set(s.gates ?? []);
    for (const d of s.deps) {
      const resolved = ids.has(d) ? [d] : dag.has(d) ? nearest(d) : [];
      for (const r of resolved) {
        deps.add(r);
        // A test of N does not wait for N's other tests; everything else does.
        if (!gating.has(r)) for (const g of gatesOf.get(r) ?? []) if (g !== s.uniqueId) deps.add(g);
      }
    }
    for (const p of precededBy.get(s.uniqueId) ?? []) deps.add(p);
    deps.delete(s.uniqueId);
    return { ...s, deps: [...deps] };
  });
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
