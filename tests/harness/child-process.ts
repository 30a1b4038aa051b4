import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

/** True once the process has exited (by itself or by a signal). */
export const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM (a clean shutdown for both servers), then SIGKILL if it has not exited after `timeoutMs`. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL, resolving once the process is gone (a crash, as a power cut would). */
export async function killChild(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Kills the server process(es) `current()` and removes its folder if this test process ends before
 * `release()` is called: on a normal exit, and on Ctrl-C or a SIGTERM from the runner (which would
 * otherwise end node without running 'exit' handlers and leave the server running).
 */
export function killOnTestExit(current: () => ChildProcess | readonly ChildProcess[], dir: string): { release(): void } {
  const cleanup = (): void => {
    const now = current();
    for (const child of Array.isArray(now) ? now : [now]) {
      if (!hasExited(child)) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    release();
    cleanup();
    // Re-raise so the process still ends the way it was asked to (unless someone else handles it).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const release = (): void => {
    process.off('exit', cleanup);
    for (const signal of INTERRUPTS) process.off(signal, onSignal);
  };
  process.on('exit', cleanup);
  for (const signal of INTERRUPTS) process.on(signal, onSignal);
  return { release };
}
