import type { Driver } from './driver.js';
import { WrappingDriver, type DriverCall } from './wrapping-driver.js';

/**
 * A testing aid for crash-point sweeps: with `KILN_CRASH_AFTER=N` the process kills itself with
 * SIGKILL (a shell reports status 137) right after the Nth statement it sent has completed,
 * counted from 1 over the whole command and over every connection it opens. Nothing more is
 * printed and no cleanup runs, exactly as when an operator kills the process. A command that
 * sends fewer statements finishes normally. Unset, connect() does not wrap the driver at all.
 */
export function crashPointFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.KILN_CRASH_AFTER;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Statements sent by this process so far, over every driver: the sweep's clock. */
let sent = 0;

export class CrashPointDriver extends WrappingDriver {
  constructor(
    inner: Driver,
    private readonly crashAfter: number,
  ) {
    super(inner, true);
  }

  /** Local reads count too: a sweep kills between any two calls the command makes. */
  protected async around<R>(_call: DriverCall, run: () => Promise<R>): Promise<R> {
    const r = await run();
    sent += 1;
    if (sent >= this.crashAfter) process.kill(process.pid, 'SIGKILL');
    return r;
  }
}
