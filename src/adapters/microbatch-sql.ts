import { rel, stripTrailingSemicolon, type DdlContext, type Relation } from './ddl.js';
import { quoteString, sqlLiteral } from './quoting.js';

/**
 * SQL of microbatch models (dbt 1.9's incremental_strategy='microbatch'). kiln partitions such a
 * table by its batches (UTC hours, days or months of event_time), so a batch is one partition:
 * `REPLACE PARTITION … FROM` a scratch table publishes a batch in one statement on every server
 * (and `DROP PARTITION` an empty one). A DELETE then INSERT would be two statements, with a window
 * where readers, or a killed run, see the slice gone.
 */

export type BatchSize = 'hour' | 'day' | 'month';

/** A DateTime literal in UTC. */
export function utcLiteral(at: Date): string {
  return `toDateTime(${quoteString(at.toISOString().slice(0, 19).replace('T', ' '))}, 'UTC')`;
}

/** The table's partition expression: one integer per batch, whose decimal text is the partition id. */
export function batchPartitionExpression(eventTime: string, size: BatchSize): string {
  switch (size) {
    case 'hour':
      return `toYYYYMMDDhhmmss(toStartOfHour(${eventTime}, 'UTC'), 'UTC')`;
    case 'day':
      return `toYYYYMMDD(${eventTime}, 'UTC')`;
    case 'month':
      return `toYYYYMM(${eventTime}, 'UTC')`;
  }
}

/** The partition id of the batch starting at `start` (as batchPartitionExpression numbers it). */
export function batchPartitionId(start: Date, size: BatchSize): string {
  const iso = start.toISOString();
  const ymd = iso.slice(0, 10).replace(/-/g, '');
  if (size === 'month') return ymd.slice(0, 6);
  if (size === 'day') return ymd;
  return `${ymd}${iso.slice(11, 13)}0000`;
}

/** Rows of `relationOrSql` whose event time is in [start, end). */
export function eventTimeWindow(eventTime: string, start: Date, end: Date): string {
  return `${eventTime} >= ${utcLiteral(start)} AND ${eventTime} < ${utcLiteral(end)}`;
}

/** An upstream relation read by a batch: only its rows in the batch's window (dbt's event_time filter). */
export function filteredRelation(relation: string, eventTime: string, start: Date, end: Date): string {
  return `(SELECT * FROM ${relation} WHERE ${eventTimeWindow(eventTime, start, end)})`;
}

/** A batch's rows: the model's, kept to the window so every row lands in the batch's partition. */
export function batchSelect(sql: string, eventTime: string, start: Date, end: Date): string {
  return `SELECT * FROM (\n${stripTrailingSemicolon(sql)}\n) WHERE ${eventTimeWindow(eventTime, start, end)}`;
}

/** A statement on rows: on the node kiln talks to, never ON CLUSTER (see onCluster in ddl.ts). */
export function dropPartitionId(_ctx: DdlContext, target: Relation, partitionId: string): string {
  return `ALTER TABLE ${rel(target)} DROP PARTITION ID ${sqlLiteral(partitionId)}`;
}
