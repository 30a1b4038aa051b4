import { createDatabase, onCluster, rel, storageClause, type DdlContext, type Relation, type TableOptions } from './ddl.js';
import { quoteString } from './quoting.js';

/**
 * SQL text of the target run lock (see server-lock.ts for how it is used). The lock is a table
 * `_kiln.lock__<database>`: creating it is the one step ClickHouse lets exactly one caller win
 * (CREATE TABLE without IF NOT EXISTS, guarded per name on every version and database engine).
 * Its holder is recorded in the same statement, as the default of a column, so there is no
 * moment when the lock exists without saying whose it is. Heartbeats are rows stamped with the
 * server's now().
 */

/** kiln's own database on a server: locks and their tombstones. */
export const SYSTEM_DATABASE = '_kiln';

/**
 * Engine of the lock table: Replicated on a replicated cluster target (storageClause), so every
 * node sees the holder's heartbeats and the lock is cluster-wide; its CREATE runs ON CLUSTER, and
 * the distributed DDL queue orders two runs' CREATEs the same way on every node, so one wins.
 */
const LOCK_STORAGE: TableOptions = { engine: 'MergeTree()', order_by: 'tuple()' };

export function lockRelation(database: string): Relation {
  return { database: SYSTEM_DATABASE, name: `lock__${database}` };
}

/**
 * Where a broken lock is moved: named after the holder it judged expired, so two runs breaking
 * the same lock at once cannot both succeed (the second RENAME finds the name taken), and a run
 * that judged an old holder expired cannot move a newer holder's lock away under that name.
 */
export function tombstoneRelation(database: string, holderRunId: string): Relation {
  return { database: SYSTEM_DATABASE, name: `expired__${database}__${holderRunId.replace(/[^0-9a-zA-Z]/g, '') || 'unknown'}` };
}

export function createSystemDatabase(ctx: DdlContext): string {
  return createDatabase(ctx, SYSTEM_DATABASE);
}

/** Fails with TABLE_ALREADY_EXISTS for every caller but one. */
export function createLockTable(ctx: DdlContext, lock: Relation, holderJson: string): string {
  return `CREATE TABLE ${rel(lock)}${onCluster(ctx)}\n(\n  beat DateTime,\n  holder String DEFAULT ${quoteString(holderJson)}\n)\n${storageClause(LOCK_STORAGE, { ctx, table: lock })}`;
}

export function insertBeat(lock: Relation): string {
  return `INSERT INTO ${rel(lock)} (beat) SELECT now()`;
}

/** The holder's JSON as ClickHouse prints the column default: a quoted string literal. */
export function readHolder(lock: Relation): string {
  return `SELECT default_expression AS holder FROM system.columns WHERE database = ${quoteString(lock.database)} AND table = ${quoteString(lock.name)} AND name = 'holder'`;
}

/**
 * Beats so far, the last one and the server's now, all on the server's clock, with the holder
 * as the beat rows recorded it (the column's default, stored with each row; '' before the first
 * beat). One SELECT reads one table, so the holder and the beats it returns belong together even
 * while another run renames this lock away and creates its own under the same name.
 */
export function readBeats(lock: Relation): string {
  return `SELECT toUInt32(now()) AS now, toUInt32(max(beat)) AS last, count() AS beats, any(holder) AS holder FROM ${rel(lock)}`;
}

export function renameLock(ctx: DdlContext, from: Relation, to: Relation): string {
  return `RENAME TABLE ${rel(from)} TO ${rel(to)}${onCluster(ctx)}`;
}

/** Tombstones of `database`'s lock whose holder is long gone (see ServerLock.sweepTombstones). */
export function listTombstones(database: string): string {
  return `SELECT name FROM system.tables WHERE database = ${quoteString(SYSTEM_DATABASE)} AND startsWith(name, ${quoteString(`expired__${database}__`)})`;
}

/** `'…'` as ClickHouse prints a string literal → its text. */
export function unquoteStringLiteral(literal: string): string | undefined {
  const m = /^'((?:[^'\\]|\\.)*)'$/s.exec(literal.trim());
  if (!m) return undefined;
  return m[1]!.replace(/\\(.)/gs, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '0': '\0' })[c] ?? c);
}
