import { Adapter } from '../adapters/adapter.js';
import type { Invocation } from './invocation.js';

/** Connects to the invocation's target (unreachable → exit-2 error before anything runs). */
export function connectWarehouse(inv: Invocation): Promise<Adapter> {
  return Adapter.connect(inv.compiled.project.target, { threads: threadsOf(inv) });
}

export function threadsOf(inv: Invocation): number {
  return inv.options.threads ?? inv.compiled.project.target.threads ?? 4;
}
