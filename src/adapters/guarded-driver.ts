import type { Driver } from './driver.js';
import { WrappingDriver, type DriverCall } from './wrapping-driver.js';

/**
 * A driver that awaits `check` before each statement it sends to the target (and fails it when
 * `check` throws). The target lock uses it so that a run which lost its lock sends nothing more.
 * Shares the inner driver's connection and does not close it.
 */
export class GuardedDriver extends WrappingDriver {
  constructor(
    inner: Driver,
    private readonly check: () => Promise<void>,
  ) {
    super(inner, false);
  }

  protected async around<R>(call: DriverCall, run: () => Promise<R>): Promise<R> {
    if (!('local' in call)) await this.check();
    return run();
  }
}
