import type { ColumnInfo } from './adapter.js';
import { rel, stripTrailingSemicolon, type Relation } from './ddl.js';
import { quoteIdentifier, quoteString } from './quoting.js';

/**
 * SQL of a snapshot (SCD type 2, dbt's semantics): the SELECT that computes the snapshot's whole
 * next version from its current table and its query. The materialization builds it into a scratch
 * table and swaps it in, so a run changes the history in one statement or not at all.
 *
 * Portable to ClickHouse 18.16: subqueries instead of CTEs, `ALL LEFT JOIN … ON` with distinct
 * column names on the right (old servers fill an unmatched row with defaults, so a `1 AS flag`
 * column tells a match), every branch of the UNION cast to the table's column types.
 */

export interface SnapshotSqlSpec {
  readonly strategy: 'timestamp' | 'check';
  /** SQL expressions (usually columns) identifying a row. */
  readonly uniqueKey: readonly string[];
  readonly updatedAt?: string;
  readonly checkCols: readonly string[] | 'all';
  readonly hardDeletes: 'ignore' | 'invalidate' | 'new_record';
  readonly columnNames: {
    readonly dbt_scd_id: string;
    readonly dbt_updated_at: string;
    readonly dbt_valid_from: string;
    readonly dbt_valid_to: string;
    readonly dbt_is_deleted: string;
  };
  readonly validToCurrent?: string;
}

const q = quoteIdentifier;

/** The run's snapshot time, one literal for every row this run writes. */
export function snapshotTimeLiteral(at: Date): string {
  return `toDateTime(${quoteString(at.toISOString().slice(0, 19).replace('T', ' '))}, 'UTC')`;
}

/** A row's key as one string: comparable on both sides of a join, and part of dbt_scd_id. */
function keyString(spec: SnapshotSqlSpec): string {
  const parts = spec.uniqueKey.map((k) => `ifNull(toString(${k}), '')`);
  return parts.length === 1 ? parts[0]! : `concat(${parts.join(", '|', ")})`;
}

function scdId(key: string, updated: string): string {
  return `lower(hex(MD5(concat(${key}, '|', ifNull(toString(${updated}), '')))))`;
}

/** The check strategy's row signature: NULL and a value never compare equal, as in dbt. */
function checkSignature(columns: readonly string[]): string {
  const parts = columns.map((c) => `ifNull(concat('v', toString(${c})), 'N')`);
  return parts.length === 1 ? parts[0]! : `concat(${parts.join(", '\\x1f', ")})`;
}

/** What a source row's "updated at" is: its updated_at, or (check strategy) the snapshot time. */
function updatedExpr(spec: SnapshotSqlSpec, now: string): string {
  return spec.strategy === 'timestamp' ? `(${spec.updatedAt!})` : now;
}

/** The first version of a snapshot: every row of the query, current. */
export function firstSnapshotSelect(spec: SnapshotSqlSpec, sql: string, now: string): string {
  const n = spec.columnNames;
  const upd = updatedExpr(spec, now);
  const validTo = spec.validToCurrent ? `coalesce(nullIf(${upd}, ${upd}), (${spec.validToCurrent}))` : `nullIf(${upd}, ${upd})`;
  return [
    'SELECT *,',
    `  ${scdId(keyString(spec), upd)} AS ${q(n.dbt_scd_id)},`,
    `  ${upd} AS ${q(n.dbt_updated_at)},`,
    `  ${upd} AS ${q(n.dbt_valid_from)},`,
    `  ${validTo} AS ${q(n.dbt_valid_to)}${spec.hardDeletes === 'new_record' ? ',' : ''}`,
    ...(spec.hardDeletes === 'new_record' ? [`  'False' AS ${q(n.dbt_is_deleted)}`] : []),
    `FROM (\n${stripTrailingSemicolon(sql)}\n) AS __kiln_snapshot_source`,
  ].join('\n');
}

/** The metadata column names of a snapshot (dbt_is_deleted only with hard_deletes: new_record). */
export function snapshotMetaColumns(spec: SnapshotSqlSpec): string[] {
  const n = spec.columnNames;
  return [n.dbt_scd_id, n.dbt_updated_at, n.dbt_valid_from, n.dbt_valid_to, ...(spec.hardDeletes === 'new_record' ? [n.dbt_is_deleted] : [])];
}

/**
 * The next version of a snapshot: its rows, with the current ones that changed or disappeared
 * closed, plus a new current row for each new or changed source row (and, with new_record, a
 * deletion record for each disappeared one). `columns` are the table's, in order.
 */
export function nextSnapshotSelect(spec: SnapshotSqlSpec, sql: string, table: Relation, columns: readonly ColumnInfo[], now: string): string {
  const n = spec.columnNames;
  const typeOf = new Map(columns.map((c) => [c.name, c.type]));
  const meta = new Set([n.dbt_scd_id, n.dbt_updated_at, n.dbt_valid_from, n.dbt_valid_to, n.dbt_is_deleted]);
  const dataCols = columns.map((c) => c.name).filter((c) => !meta.has(c));
  const hasDeletedCol = typeOf.has(n.dbt_is_deleted);
  const newRecord = spec.hardDeletes === 'new_record';
  const outCols = [...dataCols, n.dbt_scd_id, n.dbt_updated_at, n.dbt_valid_from, n.dbt_valid_to, ...(newRecord || hasDeletedCol ? [n.dbt_is_deleted] : [])];
  const typeOfOut = (c: string) => typeOf.get(c) ?? 'String';
  const validToType = typeOfOut(n.dbt_valid_to);

  const key = keyString(spec);
  const upd = updatedExpr(spec, now);
  const source = `(\n${stripTrailingSemicolon(sql)}\n)`;
  const checkCols = spec.checkCols === 'all' ? dataCols.map(q) : spec.checkCols;
  const isCurrent = `(${q(n.dbt_valid_to)} IS NULL${spec.validToCurrent ? ` OR ${q(n.dbt_valid_to)} = (${spec.validToCurrent})` : ''})`;
  const isDeleted = hasDeletedCol ? `(${q(n.dbt_is_deleted)} = 'True')` : '0';
  const currentTo = spec.validToCurrent ? `(${spec.validToCurrent})` : 'NULL';

  // The query's rows with their key, "updated at" and (check) signature.
  const sourceRows = [
    `SELECT ${dataCols.map(q).join(', ')}, ${key} AS __kiln_key, ${upd} AS __kiln_upd`,
    ...(spec.strategy === 'check' ? [`, ${checkSignature(checkCols)} AS __kiln_sig`] : []),
    `FROM ${source} AS __kiln_s0`,
  ].join(' ');
  // The snapshot's current rows, under names that cannot clash with the query's.
  const currentRows = [
    `SELECT ${key} AS __kiln_ckey, ${q(n.dbt_scd_id)} AS __kiln_cscd, ${q(n.dbt_valid_from)} AS __kiln_cfrom, ${isDeleted} AS __kiln_cdel, 1 AS __kiln_cur`,
    ...(spec.strategy === 'check' ? [`, ${checkSignature(checkCols)} AS __kiln_csig`] : []),
    `FROM ${rel(table)} WHERE ${isCurrent}`,
  ].join(' ');
  const rowChanged = spec.strategy === 'timestamp' ? '__kiln_cfrom < __kiln_upd' : '__kiln_csig != __kiln_sig';
  // dbt: a row is new when its key has no current row, changed when the strategy says so; with
  // new_record a key whose current row is a deletion record comes back as a new row.
  const changed = `(__kiln_cur = 1 AND (${rowChanged}${newRecord ? ' OR __kiln_cdel = 1' : ''}))`;
  const joined = `SELECT ${dataCols.map(q).join(', ')}, __kiln_key, __kiln_upd, __kiln_cur, __kiln_cscd, ${changed} AS __kiln_changed
FROM (${sourceRows}) AS __kiln_s ALL LEFT JOIN (${currentRows}) AS __kiln_c ON __kiln_key = __kiln_ckey`;
  const sourceKeys = `(SELECT ${key} FROM ${source} AS __kiln_s1)`;
  const vanished = `${isCurrent} AND NOT ${isDeleted} AND ${key} NOT IN ${sourceKeys}`;

  // Each branch computes its values under scratch names first: an alias named like a column
  // would shadow that column in the branch's WHERE and JOIN (ClickHouse resolves aliases there).
  const branch = (values: readonly string[], from: string) =>
    `SELECT ${outCols.map((c, i) => `CAST(__kiln_v${i} AS ${typeOfOut(c)}) AS ${q(c)}`).join(', ')}\nFROM (SELECT\n${values.map((v, i) => `  ${v} AS __kiln_v${i}`).join(',\n')}\n${from})`;
  const withDeleted = (value: string) => (outCols.includes(n.dbt_is_deleted) ? [value] : []);

  // Every row kept; a current row closed when its source row changed (at its new "updated at")
  // or, with invalidate/new_record, when it left the query (at the snapshot time).
  const closeTo = [
    `__kiln_closing = 1, CAST(__kiln_close_to AS ${validToType})`,
    ...(spec.hardDeletes === 'ignore' ? [] : [`${vanished}, CAST(${now} AS ${validToType})`]),
  ];
  const kept = branch(
    [
      ...dataCols.map(q),
      q(n.dbt_scd_id),
      q(n.dbt_updated_at),
      q(n.dbt_valid_from),
      `multiIf(${closeTo.join(', ')}, CAST(${q(n.dbt_valid_to)} AS ${validToType}))`,
      ...withDeleted(hasDeletedCol ? q(n.dbt_is_deleted) : `'False'`),
    ],
    `FROM ${rel(table)} ALL LEFT JOIN (SELECT __kiln_cscd AS __kiln_jscd, __kiln_upd AS __kiln_close_to, 1 AS __kiln_closing FROM (${joined}) WHERE __kiln_changed) AS __kiln_closed ON ${q(n.dbt_scd_id)} = __kiln_jscd`,
  );
  const inserted = branch(
    [...dataCols.map(q), scdId('__kiln_key', '__kiln_upd'), '__kiln_upd', '__kiln_upd', currentTo, ...withDeleted(`'False'`)],
    `FROM (${joined}) WHERE __kiln_cur = 0 OR __kiln_changed`,
  );
  const branches = [kept, inserted];
  if (newRecord) {
    branches.push(branch([...dataCols.map(q), scdId(key, now), now, now, currentTo, ...withDeleted(`'True'`)], `FROM ${rel(table)} WHERE ${vanished}`));
  }
  return `SELECT * FROM (\n${branches.join('\nUNION ALL\n')}\n)`;
}
