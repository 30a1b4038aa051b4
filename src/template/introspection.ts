/**
 * What a template may ask the warehouse while it renders (dbt's `run_query`, `statement`,
 * `adapter.get_columns_in_relation`, `adapter.get_relation`). Rendering is synchronous and the
 * warehouse is not, so a render reads answers from a `WarehouseAnswers` and records the questions
 * it could not answer; the executor asks them, adds the answers and renders again (see
 * execute/introspective-render.ts). Compile has no warehouse: there `execute` is false and every
 * question is answered empty, as dbt's parse does.
 */

/** A query's result: column names and rows (values as the driver returned them). */
export interface QueryRows {
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly unknown[]>;
}

/** One column of a relation: name and ClickHouse type. */
export interface RelationColumn {
  readonly name: string;
  readonly type: string;
}

export type WarehouseQuestion =
  | { readonly kind: 'query'; readonly sql: string }
  | { readonly kind: 'columns'; readonly database: string; readonly table: string }
  | { readonly kind: 'relation'; readonly database: string; readonly table: string };

export function questionKey(q: WarehouseQuestion): string {
  return q.kind === 'query' ? `query\u0000${q.sql}` : `${q.kind}\u0000${q.database}\u0000${q.table}`;
}

/** Answers known so far; `undefined` means not asked yet. */
export interface WarehouseAnswers {
  answer(q: WarehouseQuestion): unknown;
}

/** Answers collected across the rounds of one node's render. */
export class AnswerBook implements WarehouseAnswers {
  private readonly known = new Map<string, unknown>();
  readonly missing = new Map<string, WarehouseQuestion>();
  answer(q: WarehouseQuestion): unknown {
    const key = questionKey(q);
    if (this.known.has(key)) return this.known.get(key);
    this.missing.set(key, q);
    return undefined;
  }
  record(q: WarehouseQuestion, value: unknown): void {
    this.known.set(questionKey(q), value);
    this.missing.delete(questionKey(q));
  }
}

// --- the objects dbt code receives ----------------------------------------------------------

/** dbt's Column: `.name`, `.column`, `.data_type`, `.dtype`, `.quoted`, `.is_string()`, … */
export class ColumnInfo {
  constructor(readonly name: string, readonly data_type: string) {}
  get column(): string {
    return this.name;
  }
  get dtype(): string {
    return this.data_type;
  }
  get quoted(): string {
    return '`' + this.name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
  }
  /** The type inside Nullable(…) / LowCardinality(…), as dbt-clickhouse's Column reads it. */
  private get inner(): string {
    let t = this.data_type.trim();
    for (let m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t); m; m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t)) t = m[1]!.trim();
    return t;
  }
  get is_nullable(): boolean {
    return /^(LowCardinality\()?Nullable\(/.test(this.data_type.trim());
  }
  is_string(): boolean {
    return /^(String|FixedString)\b/.test(this.inner);
  }
  is_number(): boolean {
    return /^(U?Int|Float|Decimal)/.test(this.inner);
  }
  is_integer(): boolean {
    return /^U?Int/.test(this.inner);
  }
  is_float(): boolean {
    return /^Float/.test(this.inner);
  }
  is_numeric(): boolean {
    return /^Decimal/.test(this.inner);
  }
  /** A FixedString's length; a String's is unbounded, reported as 256 as dbt-clickhouse does. */
  string_size(): number {
    const fixed = /^FixedString\((\d+)\)/.exec(this.inner);
    return fixed ? Number(fixed[1]) : 256;
  }
  can_expand_to(other: unknown): boolean {
    return other instanceof ColumnInfo && this.is_string() && other.is_string() && other.string_size() > this.string_size();
  }
  toString(): string {
    return `<Column ${this.name} (${this.data_type})>`;
  }
}

/** An agate column: its values. */
class TableColumn {
  constructor(readonly name: string, private readonly items: readonly unknown[]) {}
  values(): unknown[] {
    return [...this.items];
  }
  get length(): number {
    return this.items.length;
  }
}

/** An agate row: indexable by position and by column name. */
function tableRow(columns: readonly string[], values: readonly unknown[]): unknown[] {
  const row = [...values] as unknown[] & Record<string, unknown>;
  columns.forEach((c, i) => {
    if (!/^\d+$/.test(c) && !(c in Array.prototype)) row[c] = values[i];
  });
  return row;
}

/** The `.table` of a query result: `.columns` by position and name, `.rows`, `.column_names`. */
export class ResultTable {
  readonly columns: TableColumn[] & Record<string, TableColumn>;
  readonly rows: unknown[][];
  readonly column_names: string[];
  constructor(result: QueryRows) {
    this.column_names = [...result.columns];
    const columns = result.columns.map((c, i) => new TableColumn(c, result.rows.map((r) => r[i]))) as TableColumn[] & Record<string, TableColumn>;
    result.columns.forEach((c, i) => {
      if (!/^\d+$/.test(c) && !(c in Array.prototype)) columns[c] = columns[i]!;
    });
    // agate's columns are a mapping too: `for name, column in table.columns.items()` (dbt_utils' get_query_results_as_dict).
    Object.defineProperty(columns, 'items', { value: () => result.columns.map((c, i) => [c, columns[i]!]) });
    Object.defineProperty(columns, 'keys', { value: () => [...result.columns] });
    this.columns = columns;
    this.rows = result.rows.map((r) => tableRow(result.columns, r));
  }
  print_table(): string {
    return '';
  }
  get length(): number {
    return this.rows.length;
  }
  [Symbol.iterator](): Iterator<unknown[]> {
    return this.rows[Symbol.iterator]();
  }
}

/** What `load_result(name)` returns: `.table`, `['data']`, `.response`. */
export function statementResult(result: QueryRows): { table: ResultTable; data: unknown[][]; response: { rows_affected: number; code: string } } {
  const table = new ResultTable(result);
  return { table, data: result.rows.map((r) => [...r]), response: { rows_affected: result.rows.length, code: 'OK' } };
}
