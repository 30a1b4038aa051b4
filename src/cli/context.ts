import { parseUtc } from '../compile/model-kind.js';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { InvocationOptions } from '../api/options.js';
import { formatError, KilnError, KilnErrors } from '../errors.js';
import type { Reporter } from '../report/events.js';
import type { NodeResult } from '../report/run-results.js';
import { JsonReporter, TerminalReporter, type OutputStreams } from './terminal-reporter.js';

/** Exit codes (DESIGN): 0 success, 1 a node errored or a test failed, 2 invalid project/invocation. */
export const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

export interface GlobalFlags {
  projectDir?: string;
  target?: string;
  profilesDir?: string;
  vars?: string;
  threads?: string;
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  eventTimeStart?: string;
  eventTimeEnd?: string;
  failFast?: boolean;
  junit?: string;
  json?: boolean;
  color?: boolean;
  debug?: boolean;
  state?: string;
  wait?: boolean | string;
  strict?: boolean;
}

export interface CliContext {
  readonly flags: GlobalFlags;
  readonly reporter: Reporter & { error(text: string): void };
  readonly streams: OutputStreams;
  readonly options: InvocationOptions;
}

export function cliContext(cmd: Command, streams: OutputStreams): CliContext {
  const flags = cmd.optsWithGlobals<GlobalFlags>();
  const color = flags.color !== false && !process.env.NO_COLOR && streams.out.isTTY === true;
  const reporter = flags.json
    ? new JsonReporter(streams.out)
    : new TerminalReporter(streams, color, process.env.GITHUB_ACTIONS === 'true');
  const options: InvocationOptions = {
    ...(flags.projectDir ? { projectDir: flags.projectDir } : {}),
    ...(flags.target ? { target: flags.target } : {}),
    ...(flags.profilesDir ? { profilesDir: resolve(flags.profilesDir) } : {}),
    ...(flags.vars ? { vars: parseVars(flags.vars) } : {}),
    ...(flags.threads ? { threads: parseThreads(flags.threads) } : {}),
    ...(flags.select?.length ? { select: flags.select } : {}),
    ...(flags.exclude?.length ? { exclude: flags.exclude } : {}),
    ...(flags.state ? { state: flags.state } : {}),
    ...(flags.junit ? { junit: resolve(flags.junit) } : {}),
    fullRefresh: flags.fullRefresh === true,
    ...eventTimeWindow(flags),
    failFast: flags.failFast === true,
    ...(flags.wait !== undefined ? { wait: parseWait(flags.wait) } : {}),
    ...(flags.strict ? { strict: true } : {}),
    reporter,
  };
  return { flags, reporter, streams, options };
}

function eventTimeWindow(flags: GlobalFlags): { eventTimeStart?: Date; eventTimeEnd?: Date } {
  const parse = (flag: string, text: string | undefined): Date | undefined => {
    if (text === undefined) return undefined;
    const at = parseUtc(text);
    if (!at) throw new KilnError('CONFIG_INVALID', `${flag} '${text}' is not a date or time`, { hint: `write it like ${flag} 2025-01-01 or ${flag} '2025-01-01 06:00:00' (UTC)` });
    return at;
  };
  const start = parse('--event-time-start', flags.eventTimeStart);
  const end = parse('--event-time-end', flags.eventTimeEnd);
  if (start && end && start >= end) {
    throw new KilnError('CONFIG_INVALID', `--event-time-start (${flags.eventTimeStart}) must be before --event-time-end (${flags.eventTimeEnd})`);
  }
  return { ...(start ? { eventTimeStart: start } : {}), ...(end ? { eventTimeEnd: end } : {}) };
}

function parseVars(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new KilnError('CONFIG_INVALID', `--vars is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, {
      hint: `write it like --vars '{data_root: /data, days: 7}'`,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KilnError('CONFIG_INVALID', '--vars must be a mapping', { hint: `write it like --vars '{data_root: /data}'` });
  }
  return value as Record<string, unknown>;
}

function parseWait(value: boolean | string): boolean | number {
  if (value === true) return true;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new KilnError('CONFIG_INVALID', `--wait takes a number of seconds, got '${String(value)}'`, {
      hint: '`--wait 300` waits up to five minutes; `--wait` alone waits until the lock is released',
    });
  }
  return n;
}

function parseThreads(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new KilnError('CONFIG_INVALID', `--threads must be a positive integer, got '${text}'`);
  }
  return n;
}

/** Exit code for finished node results. */
export function exitCodeFor(results: readonly NodeResult[]): number {
  return results.some((r) => r.status === 'error' || r.status === 'fail') ? EXIT.failed : EXIT.ok;
}

/**
 * The one place errors become output and exit codes. Known errors print as `file:line: message`
 * with a hint; anything else is a bug, shown with its stack only under --debug.
 */
export function reportFailure(err: unknown, reporter: { error(text: string): void }, debug: boolean): number {
  const errors = err instanceof KilnErrors ? err.errors : err instanceof KilnError ? [err] : undefined;
  if (errors) {
    for (const e of errors) {
      reporter.error(formatError(e));
      if (debug && e.stack) reporter.error(e.stack);
    }
    return errors.some((e) => e.kind === 'runtime') ? EXIT.failed : EXIT.invalid;
  }
  const e = err as Error;
  reporter.error(`internal error: ${e?.message ?? String(err)}${debug ? '' : ' (run with --debug for the stack trace)'}`);
  if (debug && e?.stack) reporter.error(e.stack);
  return EXIT.failed;
}
