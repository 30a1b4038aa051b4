import nunjucks from 'nunjucks';

/** Bounds on one render, so a runaway template fails with its file instead of hanging or crashing V8. */
export interface RenderLimits {
  readonly timeoutMs: number;
  /** Characters of rendered SQL. */
  readonly maxOutput: number;
  /** Items one `range()` call may produce. */
  readonly maxRangeItems: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { timeoutMs: 10_000, maxOutput: 64 * 1024 * 1024, maxRangeItems: 1_000_000 };

/**
 * The limits from the environment (`KILN_RENDER_TIMEOUT_SECONDS`, `KILN_RENDER_MAX_OUTPUT_MB`),
 * else the defaults: 10 s and 64 MB per model, test or hook.
 */
export function renderLimitsFrom(env: Readonly<Record<string, string | undefined>>): RenderLimits {
  const positive = (text: string | undefined) => {
    const n = Number(text);
    return text !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
  };
  const seconds = positive(env.KILN_RENDER_TIMEOUT_SECONDS);
  const megabytes = positive(env.KILN_RENDER_MAX_OUTPUT_MB);
  return {
    ...DEFAULT_RENDER_LIMITS,
    ...(seconds ? { timeoutMs: seconds * 1000 } : {}),
    ...(megabytes ? { maxOutput: megabytes * 1024 * 1024 } : {}),
  };
}

/** The deadline of the render running now; rendering is synchronous, so there is one at a time. */
let deadline = Number.POSITIVE_INFINITY;
let overdue: (() => Error) | undefined;
let calls = 0;
let installed = false;

/**
 * Every loop iteration of a compiled nunjucks template sets `loop.*` on its frame: that is where
 * a render that runs past its deadline is stopped (the clock is read every 1024 sets, so the
 * check costs nothing measurable).
 */
function installLoopClock(): void {
  if (installed) return;
  installed = true;
  const frame = (nunjucks as unknown as { runtime: { Frame: { prototype: { set: (...a: unknown[]) => unknown } } } }).runtime.Frame.prototype;
  const set = frame.set;
  frame.set = function setWithDeadline(this: unknown, ...args: unknown[]) {
    if ((++calls & 1023) === 0 && overdue && Date.now() > deadline) throw overdue();
    return set.apply(this, args);
  };
}

/** Runs `render` under a deadline of `timeoutMs`; past it, the next loop iteration throws `onTimeout()`. */
export function withDeadline<T>(timeoutMs: number, onTimeout: () => Error, render: () => T): T {
  installLoopClock();
  const outer = { deadline, overdue };
  deadline = Date.now() + timeoutMs;
  overdue = onTimeout;
  try {
    return render();
  } finally {
    ({ deadline, overdue } = outer);
  }
}

/** nunjucks' `range()`, refusing more than `max` items (it would build the whole array). */
export function boundedRange(max: number, tooMany: (items: number) => Error) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) [start, stop] = [0, start];
    if (!step) return [];
    const items = Math.max(0, Math.ceil((stop - start) / step));
    if (items > max) throw tooMany(items);
    const out: number[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
    return out;
  };
}
