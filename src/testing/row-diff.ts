/** Comparing a unit test's output with its expected rows as multisets (row order never matters). */

export type Row = Readonly<Record<string, unknown>>;

export interface RowDiff {
  /** Expected rows the model did not return (as many times as they are missing). */
  readonly missing: readonly Row[];
  /** Rows the model returned that were not expected. */
  readonly unexpected: readonly Row[];
}

export function diffRows(columns: readonly string[], expected: readonly Row[], actual: readonly Row[]): RowDiff {
  const key = (r: Row) => JSON.stringify(columns.map((c) => r[c] ?? null));
  const pending = new Map<string, Row[]>();
  for (const r of expected) {
    const k = key(r);
    const list = pending.get(k);
    if (list) list.push(r);
    else pending.set(k, [r]);
  }
  const unexpected: Row[] = [];
  for (const r of actual) {
    const list = pending.get(key(r));
    if (list && list.length) list.pop();
    else unexpected.push(r);
  }
  return { missing: [...pending.values()].flat(), unexpected };
}

export function isEmptyDiff(d: RowDiff): boolean {
  return d.missing.length === 0 && d.unexpected.length === 0;
}

/**
 * A diff a person can read: a table of the differing rows only, `-` for expected rows that are
 * missing, `+` for rows the model returned but nobody expected.
 */
export function formatRowDiff(columns: readonly string[], diff: RowDiff, expectedCount: number, actualCount: number, maxRows = 20): string {
  const head =
    `expected ${expectedCount} row${expectedCount === 1 ? '' : 's'}, got ${actualCount}: ` +
    `${diff.missing.length} expected row${diff.missing.length === 1 ? '' : 's'} missing (-), ` +
    `${diff.unexpected.length} unexpected (+)`;
  const marked = [...diff.missing.map((r) => ['-', r] as const), ...diff.unexpected.map((r) => ['+', r] as const)];
  const shown = marked.slice(0, maxRows);
  const cells = shown.map(([, r]) => columns.map((c) => cellText(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (mark: string, values: readonly string[]) => `  ${mark} | ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')}`.trimEnd();
  const lines = [head, line(' ', columns), ...shown.map(([mark], i) => line(mark, cells[i]!))];
  if (marked.length > shown.length) lines.push(`  … ${marked.length - shown.length} more differing rows`);
  return lines.join('\n');
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
