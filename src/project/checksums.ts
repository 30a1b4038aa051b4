import { createHash } from 'node:crypto';

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** `source()` calls of a node, each (source, table) once, in first-call order. */
export function uniquePairs(pairs: ReadonlyArray<readonly [string, string]>): Array<readonly [string, string]> {
  const seen = new Set<string>();
  return pairs.filter(([a, b]) => {
    const key = `${a}.${b}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
