/**
 * Nodes reachable from `start` within `depth` steps of `next` (all of them for Infinity), not
 * including `start`: the one walk behind `+model` / `model+` selection, in kiln and in the docs page.
 */
export function walkGraph<T>(start: T, depth: number, next: (node: T) => readonly T[]): Set<T> {
  const seen = new Set<T>();
  let frontier = [start];
  for (let d = 0; d < depth && frontier.length; d++) {
    const upcoming: T[] = [];
    for (const node of frontier) {
      for (const n of next(node)) {
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
