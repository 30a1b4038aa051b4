import type { DdlContext, Relation } from './ddl.js';
import { dropRelation } from './ddl.js';
import type { Driver } from './driver.js';
import { decodeHolder, encodeHolder, lockStatus, type LockHolder, type LockStatus } from './lock-holder.js';
import { CH_ERRORS, SqlError } from './sql-error.js';
import * as sql from './target-lock-sql.js';

/** What a server's lock looks like now. */
export interface LockState {
  readonly exists: boolean;
  readonly holder: LockHolder | undefined;
  readonly beats: number;
  readonly lastBeat: number;
  readonly serverNow: number;
}

export type AcquireResult =
  | { readonly acquired: true; /** A lock this run broke on the way (its holder was dead or its lease over). */ readonly broke?: { readonly holder: LockHolder | undefined; readonly status: LockStatus } }
  | { readonly acquired: false; readonly holder: LockHolder | undefined };

export interface LeaseOptions {
  readonly leaseSeconds: number;
  readonly machine: string;
  readonly isAlive: (pid: number) => boolean;
}

/** How many times one acquisition tries again after breaking a lock or finding it mid-change. */
const ATTEMPTS = 5;

/** Tombstones older than this (by their holder's last beat) are dropped by the next acquisition. */
const TOMBSTONE_SECONDS = 24 * 3600;

/**
 * A target's run lock on a ClickHouse server (the SQL is in target-lock-sql.ts). Every statement
 * goes over `driver`, a connection of its own that the crash-point counter does not see: lock
 * traffic is timed by the wall clock (heartbeats), so counting it would make crash sweeps
 * nondeterministic.
 *
 * Races, and why each is safe:
 * - Two runs take a free lock at once: CREATE TABLE succeeds for one; the other reads the winner.
 * - The window between creating the lock and recording its holder does not exist: the holder
 *   is the default of a column, part of the CREATE.
 * - Two runs break the same expired lock at once: each RENAMEs it to a tombstone named after
 *   the expired holder; the second RENAME fails (source gone, or tombstone name taken), and a
 *   run that judged an older holder expired cannot move a newer lock away under that name.
 *   Tombstones are kept for a day, so that name stays taken while a breaker could still be
 *   acting on what it read (the residual: a breaker stalled for a day between its read and its
 *   RENAME could move a live lock away; its holder then stops at its next heartbeat).
 * - A holder whose lease ran out (stalled, or cut off from the server) and whose lock was broken
 *   finds out at its next heartbeat or before its next statement (see TargetLock in src/api)
 *   and stops. A statement already sent when the lease ran out is the residual window.
 */
export class ServerLock {
  readonly relation: Relation;

  constructor(
    private readonly driver: Driver,
    private readonly ddl: DdlContext,
    readonly database: string,
  ) {
    this.relation = sql.lockRelation(database);
  }

  async tryAcquire(me: LockHolder, lease: LeaseOptions): Promise<AcquireResult> {
    await this.driver.execute(sql.createSystemDatabase(this.ddl));
    let broke: { holder: LockHolder | undefined; status: LockStatus } | undefined;
    let state: LockState | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await this.driver.execute(sql.createLockTable(this.ddl, this.relation, encodeHolder(me)));
      } catch (err) {
        if (!(err instanceof SqlError)) throw err;
        state = await this.read();
        // Gone again between our CREATE and our read (released or broken meanwhile): try again.
        if (!state.exists) {
          if (err.clickhouseCode === CH_ERRORS.TABLE_ALREADY_EXISTS || attempt + 1 < ATTEMPTS) continue;
          throw err;
        }
        const status = lockStatus(state, lease);
        if (status === 'live') return { acquired: false, holder: state.holder };
        await this.breakLock(state.holder);
        broke = { holder: state.holder, status };
        continue;
      }
      // Removed (kiln unlock) between our CREATE and our first beat: nothing was written under
      // it yet, so take it again.
      if (!(await this.beatUnlessGone())) continue;
      await this.sweepTombstones().catch(() => undefined);
      return broke ? { acquired: true, broke } : { acquired: true };
    }
    // Out of attempts (others broke and took it meanwhile): name who holds it now, not whom we last saw.
    return { acquired: false, holder: (await this.read()).holder ?? state?.holder };
  }

  /**
   * The lock as it is now: who holds it and its heartbeats. The beats are read first, with the
   * holder their rows carry: reading the holder (system.columns) and then the beats could pair an
   * expired holder with the beats of the lock a breaker created meanwhile, and so name the
   * expired run as the live holder. Before the first beat the holder comes from the column's
   * default; with no beats a lock's status depends on its holder alone, so that pairing is sound.
   */
  async read(): Promise<LockState> {
    const gone: LockState = { exists: false, holder: undefined, beats: 0, lastBeat: 0, serverNow: 0 };
    let row: { now: string | number; last: string | number; beats: string | number; holder: string } | undefined;
    try {
      row = (await this.driver.query<{ now: string | number; last: string | number; beats: string | number; holder: string }>(sql.readBeats(this.relation))).rows[0];
    } catch (err) {
      if (err instanceof SqlError && err.clickhouseCode === CH_ERRORS.UNKNOWN_TABLE) return gone;
      throw err;
    }
    const beats = Number(row?.beats ?? 0);
    let json: string | undefined = row?.holder;
    if (beats === 0) {
      const literal = (await this.driver.query<{ holder: string }>(sql.readHolder(this.relation))).rows[0]?.holder;
      if (literal === undefined) return gone;
      json = sql.unquoteStringLiteral(literal);
    }
    const holder = json ? decodeHolder(json) : undefined;
    return { exists: true, holder, beats, lastBeat: Number(row?.last ?? 0), serverNow: Number(row?.now ?? 0) };
  }

  /** Records that the holder is alive (the server stamps the time). */
  async beat(): Promise<void> {
    await this.driver.execute(sql.insertBeat(this.relation));
  }

  /** beat(), or false when the lock table is gone (removed or broken since it was last read). */
  async beatUnlessGone(): Promise<boolean> {
    try {
      await this.beat();
      return true;
    } catch (err) {
      if (err instanceof SqlError && err.clickhouseCode === CH_ERRORS.UNKNOWN_TABLE) return false;
      throw err;
    }
  }

  /** Moves a lock found expired or dead aside; losing that race to another run is fine (it is gone either way). */
  private async breakLock(holder: LockHolder | undefined): Promise<void> {
    const tombstone = sql.tombstoneRelation(this.database, holder?.runId ?? '');
    try {
      await this.driver.execute(sql.renameLock(this.ddl, this.relation, tombstone));
    } catch (err) {
      if (!(err instanceof SqlError)) throw err;
    }
  }

  /** Drops the lock whoever holds it (`kiln unlock`, or the holder releasing it), and every tombstone; returns whom it held. */
  async remove(opts: { readonly tombstones?: boolean } = {}): Promise<LockState> {
    const state = await this.read();
    if (state.exists) await this.driver.execute(dropRelation(this.ddl, this.relation));
    if (opts.tombstones) {
      const r = await this.driver.query<{ name: string }>(sql.listTombstones(this.database));
      for (const { name } of r.rows) await this.driver.execute(dropRelation(this.ddl, { database: sql.SYSTEM_DATABASE, name }));
    }
    return state;
  }

  private async sweepTombstones(): Promise<void> {
    const r = await this.driver.query<{ name: string }>(sql.listTombstones(this.database));
    for (const { name } of r.rows) {
      const tombstone = { database: sql.SYSTEM_DATABASE, name };
      const b = await this.driver.query<{ now: string | number; last: string | number; beats: string | number }>(sql.readBeats(tombstone));
      const row = b.rows[0];
      // One without beats cannot say how old it is: kept, until `kiln unlock` clears them all.
      if (row && Number(row.beats) > 0 && Number(row.now) - Number(row.last) > TOMBSTONE_SECONDS) await this.driver.execute(dropRelation(this.ddl, tombstone));
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }
}
