import type { BatchSize } from '../adapters/microbatch-sql.js';

/** One batch: the rows whose event time is in [start, end). */
export interface Batch {
  readonly start: Date;
  readonly end: Date;
}

/** The start of the batch holding `at` (UTC). */
export function batchStart(at: Date, size: BatchSize): Date {
  const d = new Date(at.getTime());
  d.setUTCMinutes(0, 0, 0);
  if (size === 'hour') return d;
  d.setUTCHours(0);
  if (size === 'day') return d;
  d.setUTCDate(1);
  return d;
}

export function nextBatchStart(start: Date, size: BatchSize): Date {
  const d = new Date(start.getTime());
  if (size === 'hour') d.setUTCHours(d.getUTCHours() + 1);
  else if (size === 'day') d.setUTCDate(d.getUTCDate() + 1);
  else d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

function previousBatchStart(start: Date, size: BatchSize): Date {
  const d = new Date(start.getTime());
  if (size === 'hour') d.setUTCHours(d.getUTCHours() - 1);
  else if (size === 'day') d.setUTCDate(d.getUTCDate() - 1);
  else d.setUTCMonth(d.getUTCMonth() - 1);
  return d;
}

/** Whole batches covering [from, to): the first starts at or before `from`, the last ends at or after `to`. */
export function batchesBetween(from: Date, to: Date, size: BatchSize): Batch[] {
  const out: Batch[] = [];
  for (let start = batchStart(from, size); start < to; start = nextBatchStart(start, size)) {
    out.push({ start, end: nextBatchStart(start, size) });
    if (out.length > 100_000) throw new RangeError('more than 100000 batches');
  }
  return out;
}

/**
 * The batches a run processes, as dbt picks them: an explicit --event-time-start/--event-time-end
 * window; else the first build (or --full-refresh) from `begin` to now; else the current batch and
 * `lookback` batches before it.
 */
export function batchesToRun(opts: {
  readonly size: BatchSize;
  readonly now: Date;
  readonly firstBuild: boolean;
  readonly lookback: number;
  readonly begin?: Date;
  readonly eventTimeStart?: Date;
  readonly eventTimeEnd?: Date;
}): Batch[] | 'needs-begin' {
  const { size, now } = opts;
  if (opts.eventTimeStart || opts.eventTimeEnd) {
    const end = opts.eventTimeEnd ?? now;
    const start = opts.eventTimeStart ?? (opts.firstBuild ? opts.begin : undefined) ?? previousN(batchStart(end, size), size, opts.lookback);
    return batchesBetween(start, end, size);
  }
  if (opts.firstBuild) return opts.begin ? batchesBetween(opts.begin, now, size) : 'needs-begin';
  return batchesBetween(previousN(batchStart(now, size), size, opts.lookback), now, size);
}

function previousN(start: Date, size: BatchSize, n: number): Date {
  let d = start;
  for (let i = 0; i < n; i++) d = previousBatchStart(d, size);
  return d;
}
