/**
 * Staging's load ledger summarised per staged table for the Sources page. The ledger's columns
 * are read by the names DESIGN gives them (source, table, file, rows, rejected, status) with
 * common spellings, so the page keeps working while the ledger's exact shape settles.
 */

export interface LoadSummary {
  readonly files: number;
  readonly loads: number;
  readonly rows: number;
  readonly rejected: number;
  readonly last_load: string | null;
  readonly last_status: string | null;
}

const FIELDS = {
  source: ['source_name', 'source'],
  table: ['table_name', 'table'],
  file: ['file', 'path', 'file_path'],
  rows: ['rows', 'rows_loaded', 'loaded_rows', 'row_count'],
  rejected: ['rejected', 'rows_rejected', 'rejected_rows'],
  when: ['loaded_at', 'finished_at', 'completed_at', '_kiln_loaded_at', 'started_at', 'created_at'],
  status: ['status'],
} as const;

function pick(row: Readonly<Record<string, unknown>>, names: readonly string[]): unknown {
  for (const n of names) if (row[n] !== undefined && row[n] !== null) return row[n];
  return undefined;
}

/** `source.table` → what was loaded into it; rows the ledger cannot attribute are ignored. */
export function summarizeLedger(rows: ReadonlyArray<Readonly<Record<string, unknown>>>): Map<string, LoadSummary> {
  const acc = new Map<string, { files: Set<string>; loads: number; rows: number; rejected: number; last: string | null; status: string | null }>();
  for (const row of rows) {
    const source = pick(row, FIELDS.source);
    const table = pick(row, FIELDS.table);
    if (source === undefined || table === undefined) continue;
    const key = `${String(source)}.${String(table)}`;
    const a = acc.get(key) ?? { files: new Set<string>(), loads: 0, rows: 0, rejected: 0, last: null, status: null };
    const file = pick(row, FIELDS.file);
    if (file !== undefined && file !== '') a.files.add(String(file));
    a.loads += 1;
    a.rows += Number(pick(row, FIELDS.rows) ?? 0) || 0;
    a.rejected += Number(pick(row, FIELDS.rejected) ?? 0) || 0;
    const when = pick(row, FIELDS.when);
    if (when !== undefined && (a.last === null || String(when) >= a.last)) {
      a.last = String(when);
      const status = pick(row, FIELDS.status);
      a.status = status === undefined ? a.status : String(status);
    }
    acc.set(key, a);
  }
  return new Map(
    [...acc].map(([k, a]) => [k, { files: a.files.size, loads: a.loads, rows: a.rows, rejected: a.rejected, last_load: a.last, last_status: a.status }]),
  );
}
