import { Graph, alg } from '@dagrejs/graphlib';
import { KilnError } from '../errors.js';


/**
 * The dependency graph: an edge `a → b` means b reads a. Built once per invocation from the
 * compiled nodes' `depends_on`.
 */
export class Dag {
  private readonly g = new Graph({ directed: true });

  constructor(nodes: Iterable<{ readonly uniqueId: string; readonly dependsOn: readonly string[] }>) {
    for (const node of nodes) this.g.setNode(node.uniqueId);
    for (const node of nodes) {
      for (const dep of node.dependsOn) {
        if (this.g.hasNode(dep)) this.g.setEdge(dep, node.uniqueId);
      }
    }
  }

  get nodeIds(): string[] {
    return this.g.nodes();
  }

  has(id: string): boolean {
    return this.g.hasNode(id);
  }

  parents(id: string): string[] {
    return this.g.predecessors(id) ?? [];
  }

  children(id: string): string[] {
    return this.g.successors(id) ?? [];
  }

  /** Every cycle as a readable path `a → b → a`, or an empty list. */
  cycles(): string[][] {
    return alg.findCycles(this.g).map((scc: string[]) => this.cyclePath(new Set(scc)));
  }

  /** Throws a CYCLE error naming the whole path of the first cycle. */
  assertAcyclic(describe: (id: string) => string = (id) => id): void {
    const [first, ...rest] = this.cycles();
    if (!first) return;
    const path = first.map(describe).join(' → ');
    throw new KilnError('CYCLE', `dependency cycle: ${path}`, {
      hint: `remove one of these ref() calls to break it${rest.length ? ` (${rest.length} more cycle(s) found)` : ''}`,
    });
  }

  /** Topological order (dependencies first); ties broken by id for stable output. */
  topologicalOrder(): string[] {
    const indegree = new Map<string, number>();
    for (const id of this.g.nodes()) indegree.set(id, this.parents(id).length);
    const ready = [...indegree].filter(([, d]) => d === 0).map(([id]) => id).sort();
    const out: string[] = [];
    while (ready.length) {
      const id = ready.shift()!;
      out.push(id);
      const next: string[] = [];
      for (const child of this.children(id)) {
        const d = indegree.get(child)! - 1;
        indegree.set(child, d);
        if (d === 0) next.push(child);
      }
      if (next.length) {
        ready.push(...next);
        ready.sort();
      }
    }
    if (out.length !== indegree.size) this.assertAcyclic();
    return out;
  }

  /** Ancestors up to `depth` edges away (Infinity for all), not including the start nodes. */
  ancestors(id: string, depth = Infinity): Set<string> {
    return this.walk(id, depth, (n) => this.parents(n));
  }

  descendants(id: string, depth = Infinity): Set<string> {
    return this.walk(id, depth, (n) => this.children(n));
  }

  private walk(start: string, depth: number, next: (id: string) => string[]): Set<string> {
    const seen = new Set<string>();
    let frontier = [start];
    for (let d = 0; d < depth && frontier.length; d++) {
      const upcoming: string[] = [];
      for (const id of frontier) {
        for (const n of next(id)) {
          if (!seen.has(n)) {
            seen.add(n);
            upcoming.push(n);
          }
        }
      }
      frontier = upcoming;
    }
    seen.delete(start);
    return seen;
  }

  private cyclePath(scc: Set<string>): string[] {
    const start = [...scc].sort()[0]!;
    // Depth-first inside the strongly connected component until we come back to the start.
    const stack: Array<{ id: string; path: string[] }> = [{ id: start, path: [start] }];
    const visited = new Set<string>();
    while (stack.length) {
      const { id, path } = stack.pop()!;
      for (const child of this.children(id).filter((c) => scc.has(c)).sort().reverse()) {
        if (child === start) return [...path, start];
        if (!visited.has(child)) {
          visited.add(child);
          stack.push({ id: child, path: [...path, child] });
        }
      }
    }
    return [start, start];
  }
}
