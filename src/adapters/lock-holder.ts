import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who holds a target's run lock, as recorded when it was taken (in the lock table's definition
 * on a server, in `kiln.lock` for the embedded engine). Pure data and pure decisions, so the
 * message and the lease rule are the same for both engines and testable without a database.
 */
export interface LockHolder {
  readonly host: string;
  readonly pid: number;
  /** `kiln build`, `kiln stage`, … */
  readonly command: string;
  /** ISO-8601 time the lock was taken (the holder's clock). */
  readonly startedAt: string;
  /** The holder's invocation id: its scratch relations carry its first 12 hex digits. */
  readonly runId: string;
  /**
   * host plus pid namespace: a pid is only meaningful there. Two containers sharing a hostname
   * (`--net=host`) have different pid namespaces, so neither judges the other's pid dead.
   */
  readonly machine: string;
}

/** This process as a lock holder of `command` (without the `kiln ` prefix) for run `runId`. */
export function currentHolder(command: string, runId: string, now: Date = new Date()): LockHolder {
  return { host: hostname(), pid: process.pid, command: command ? `kiln ${command}` : 'kiln', startedAt: now.toISOString(), runId, machine: currentMachine() };
}

export function currentMachine(): string {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // No /proc (macOS, Windows): the hostname alone names the machine.
  }
  return ns ? `${hostname()}/${ns}` : hostname();
}

/** `target 'prod' is locked by host pid 42 (kiln build, since 12:03:11)` — the one wording, both engines. */
export function lockedMessage(target: string, holder: LockHolder | undefined, now: Date = new Date()): string {
  if (!holder) return `target '${target}' is locked by an unknown holder`;
  return `target '${target}' is locked by ${holderText(holder, now)}`;
}

/** `host pid 42 (kiln build, since 12:03:11)`; a lock taken on another day shows its date too. */
export function holderText(holder: LockHolder, now: Date = new Date()): string {
  return `${holder.host} pid ${holder.pid} (${holder.command}, since ${sinceText(holder.startedAt, now)})`;
}

function sinceText(iso: string, now: Date): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso || 'an unknown time';
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** The hint every refusal carries. */
export const LOCKED_HINT = 'another kiln run writes to this target; `--wait [SECONDS]` waits for it, `kiln unlock` removes a lock left by a run that is gone';

/** The holder as one JSON text (what a lock records). */
export function encodeHolder(holder: LockHolder): string {
  return JSON.stringify({
    host: holder.host,
    pid: holder.pid,
    command: holder.command,
    started_at: holder.startedAt,
    run_id: holder.runId,
    machine: holder.machine,
  });
}

/** The holder recorded in `text`, or undefined when it is not one (an old `kiln.lock` holds a bare pid). */
export function decodeHolder(text: string): LockHolder | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { host: 'localhost', pid: Number(trimmed), command: 'kiln', startedAt: '', runId: '', machine: currentMachine() };
  try {
    const v = JSON.parse(trimmed) as Record<string, unknown>;
    const pid = Number(v.pid);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return {
      host: String(v.host ?? ''),
      pid,
      command: String(v.command ?? 'kiln'),
      startedAt: String(v.started_at ?? ''),
      runId: String(v.run_id ?? ''),
      machine: String(v.machine ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** What a lock found in place is: `live` blocks; `expired` (lease over) and `dead` (holder's pid gone) may be broken. */
export type LockStatus = 'live' | 'expired' | 'dead';

export interface LeaseFacts {
  readonly holder: LockHolder | undefined;
  /** Heartbeats recorded so far (0 between the lock's creation and its first beat). */
  readonly beats: number;
  /** The last heartbeat and the server's now, in seconds since the epoch (the server's clock). */
  readonly lastBeat: number;
  readonly serverNow: number;
}

/**
 * The lease rule. A holder on this machine whose pid is gone is `dead` at once (as a stale pid
 * file is). Otherwise the lock is `expired` when its last heartbeat is older than the lease, both
 * times read on the server's clock; before its first beat its age is counted from when it was
 * taken, on the holder's clock (the only residue of clock skew, for one statement's time).
 * An unrecognisable holder without beats stays `live`: only `kiln unlock` removes it.
 */
export function lockStatus(facts: LeaseFacts, opts: { readonly leaseSeconds: number; readonly machine: string; readonly isAlive: (pid: number) => boolean }): LockStatus {
  const { holder } = facts;
  if (holder && holder.machine && holder.machine === opts.machine && !opts.isAlive(holder.pid)) return 'dead';
  let age: number;
  if (facts.beats > 0) age = facts.serverNow - facts.lastBeat;
  else {
    const taken = holder ? Date.parse(holder.startedAt) / 1000 : Number.NaN;
    if (Number.isNaN(taken)) return 'live';
    age = facts.serverNow - taken;
  }
  return age > opts.leaseSeconds ? 'expired' : 'live';
}

/** Whether process `pid` exists on this machine (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
