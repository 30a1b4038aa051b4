import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../../src/adapters/capabilities.js';
import { decodeHolder, encodeHolder, holderText, lockedMessage, lockStatus, type LockHolder } from '../../src/adapters/lock-holder.js';
import * as sql from '../../src/adapters/target-lock-sql.js';
import { leaseFromEnv, waitingForLock } from '../../src/api/target-lock.js';
import { KilnError } from '../../src/errors.js';
import { CollectingReporter } from '../../src/report/events.js';
import { scratchAgeSeconds } from '../../src/testing/unit-test-scratch.js';

const at = (h: number, m: number, s: number) => new Date(2026, 11, 5, h, m, s);
const holder: LockHolder = { host: 'etl-1', pid: 4242, command: 'kiln build', startedAt: at(12, 3, 11).toISOString(), runId: 'r-1', machine: 'etl-1/pid:[1]' };

describe('lock messages', () => {
  it('reads as the contract says: target, host, pid, command, time it was taken', () => {
    expect(lockedMessage('prod', holder, at(12, 5, 0))).toBe("target 'prod' is locked by etl-1 pid 4242 (kiln build, since 12:03:11)");
  });

  it('shows the date of a lock taken on another day, and copes with an unknown holder', () => {
    expect(holderText(holder, at(23, 0, 0))).toBe('etl-1 pid 4242 (kiln build, since 12:03:11)');
    expect(holderText(holder, new Date(2026, 11, 6, 1, 0, 0))).toBe('etl-1 pid 4242 (kiln build, since 2026-12-05 12:03:11)');
    expect(lockedMessage('prod', undefined)).toBe("target 'prod' is locked by an unknown holder");
  });

  it('round-trips a holder through its JSON, and reads a bare pid (the old kiln.lock)', () => {
    expect(decodeHolder(encodeHolder(holder))).toEqual(holder);
    expect(decodeHolder('123\n')).toMatchObject({ pid: 123 });
    expect(decodeHolder('')).toBeUndefined();
    expect(decodeHolder('{"pid": "nope"}')).toBeUndefined();
  });
});

describe('the lease rule', () => {
  const opts = { leaseSeconds: 60, machine: 'other/pid:[9]', isAlive: () => true };
  const facts = (f: Partial<Parameters<typeof lockStatus>[0]>) => ({ holder, beats: 3, lastBeat: 1000, serverNow: 1030, ...f });

  it('is live while the last beat is within the lease, expired after (server clock on both sides)', () => {
    expect(lockStatus(facts({}), opts)).toBe('live');
    expect(lockStatus(facts({ serverNow: 1060 }), opts)).toBe('live');
    expect(lockStatus(facts({ serverNow: 1061 }), opts)).toBe('expired');
  });

  it('before the first beat counts from when the lock was taken', () => {
    const taken = Date.parse(holder.startedAt) / 1000;
    expect(lockStatus(facts({ beats: 0, lastBeat: 0, serverNow: taken + 5 }), opts)).toBe('live');
    expect(lockStatus(facts({ beats: 0, lastBeat: 0, serverNow: taken + 61 }), opts)).toBe('expired');
  });

  it('is dead at once when its holder ran on this machine and its pid is gone; a pid elsewhere is never judged', () => {
    expect(lockStatus(facts({}), { ...opts, machine: holder.machine, isAlive: () => false })).toBe('dead');
    expect(lockStatus(facts({}), { ...opts, isAlive: () => false })).toBe('live');
    expect(lockStatus(facts({}), { ...opts, machine: holder.machine, isAlive: () => true })).toBe('live');
  });

  it('keeps an unrecognisable lock without beats (only kiln unlock removes it)', () => {
    expect(lockStatus({ holder: undefined, beats: 0, lastBeat: 0, serverNow: 1e10 }, opts)).toBe('live');
    expect(lockStatus({ holder: undefined, beats: 1, lastBeat: 0, serverNow: 1e10 }, opts)).toBe('expired');
  });

  it('takes its lease from KILN_LOCK_LEASE_SECONDS (default 60 s) and beats six times per lease', () => {
    expect(leaseFromEnv({})).toEqual({ leaseSeconds: 60, heartbeatMs: 10_000 });
    expect(leaseFromEnv({ KILN_LOCK_LEASE_SECONDS: '3' })).toEqual({ leaseSeconds: 3, heartbeatMs: 500 });
    expect(leaseFromEnv({ KILN_LOCK_LEASE_SECONDS: 'x' }).leaseSeconds).toBe(60);
  });
});

describe('lock SQL (18.16-compatible, ON CLUSTER threaded through ddl)', () => {
  const ctx = { capabilities: capabilitiesFor('18.16.1') };
  const lock = sql.lockRelation('analytics');

  it('creates the lock with its holder in the same statement, never IF NOT EXISTS', () => {
    const text = sql.createLockTable(ctx, lock, encodeHolder(holder));
    expect(text).toMatch(/^CREATE TABLE `_kiln`\.`lock__analytics`\n/);
    expect(text).not.toMatch(/IF NOT EXISTS/);
    expect(text).toContain(`holder String DEFAULT '{"host":"etl-1","pid":4242,`);
    expect(text).toMatch(/ENGINE = MergeTree\(\)\nORDER BY tuple\(\)$/);
    expect(sql.createLockTable({ ...ctx, cluster: 'c1' }, lock, '{}')).toMatch(/^CREATE TABLE `_kiln`\.`lock__analytics` ON CLUSTER `c1`/);
    expect(sql.renameLock({ ...ctx, cluster: 'c1' }, lock, sql.tombstoneRelation('analytics', 'r-1'))).toBe(
      'RENAME TABLE `_kiln`.`lock__analytics` TO `_kiln`.`expired__analytics__r1` ON CLUSTER `c1`',
    );
  });

  it('reads back the holder from the column default as ClickHouse prints it', () => {
    expect(sql.unquoteStringLiteral(`'{"a":"b\\\\nc","d":"it\\'s"}'`)).toBe('{"a":"b\\nc","d":"it\'s"}');
    expect(sql.unquoteStringLiteral('now()')).toBeUndefined();
  });
});

describe('waiting for a lock', () => {
  const locked = () => new KilnError('TARGET_LOCKED', "target 'dev' is locked by h pid 1 (kiln build, since 12:00:00)");

  it('without --wait refuses at once; with it prints one line and tries again until free', async () => {
    await expect(waitingForLock(() => Promise.reject(locked()), undefined, new CollectingReporter())).rejects.toThrow(/is locked by/);
    const reporter = new CollectingReporter();
    let tries = 0;
    const got = await waitingForLock(async () => (++tries < 4 ? Promise.reject(locked()) : 'mine'), true, reporter, 1);
    expect(got).toBe('mine');
    expect(reporter.events).toEqual([{ type: 'info', message: "target 'dev' is locked by h pid 1 (kiln build, since 12:00:00); waiting until it is released" }]);
  });

  it('gives up after --wait SECONDS with the holder named', async () => {
    await expect(waitingForLock(() => Promise.reject(locked()), 0.05, new CollectingReporter(), 10)).rejects.toThrow(/is locked by h pid 1 .*; gave up after waiting \d+ s/);
  });
});

describe('unit-test scratch databases', () => {
  it('carry when they were made, so a writer drops only old ones of runs it cannot see', () => {
    const now = new Date('2026-12-05T12:00:00Z');
    const made = Math.floor(now.getTime() / 1000 - 7200).toString(36);
    expect(scratchAgeSeconds(`__kiln_unit__analytics__0123456789ab_${made}`, now)).toBe(7200);
    expect(scratchAgeSeconds('__kiln_unit__analytics__0123456789ab', now)).toBe(Number.POSITIVE_INFINITY);
  });
});
