import type { Warning } from '../errors.js';
import type { NodeResult } from './run-results.js';

/**
 * Everything a command tells its user goes through events; `src/cli` renders them
 * (terminal lines, JSON) and tests capture them.
 */
export type KilnEvent =
  | { readonly type: 'warning'; readonly warning: Warning }
  | { readonly type: 'info'; readonly message: string }
  | { readonly type: 'phase'; readonly name: string; readonly total: number }
  | { readonly type: 'node_start'; readonly uniqueId: string; readonly label: string; readonly index: number; readonly total: number }
  | { readonly type: 'node_done'; readonly result: NodeResult; readonly label: string; readonly index: number; readonly total: number }
  | { readonly type: 'summary'; readonly results: readonly NodeResult[]; readonly elapsedSeconds: number };

/** Where a command sends its events: the CLI renders them, tests and API callers collect them. */
export interface Reporter {
  emit(event: KilnEvent): void;
}

/** Drops every event: what a command uses when given no reporter. */
export const silentReporter: Reporter = { emit: () => undefined };

/** Collects events; for tests and the programmatic API. */
export class CollectingReporter implements Reporter {
  readonly events: KilnEvent[] = [];
  emit(event: KilnEvent): void {
    this.events.push(event);
  }
}
