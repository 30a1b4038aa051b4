import { freshnessPhase } from '../stage/freshness-phase.js';
import { stagePhase } from '../stage/stage-phase.js';
import type { InvocationOptions } from './options.js';
import { refeedPhase } from './refeed-phase.js';
import { executeCommand, type CommandOutcome } from './run.js';

/**
 * `kiln stage`: load the selected sources into their raw tables; then rebuild the
 * materialized_view models a load left without their views (refeed-phase.ts).
 */
export function stage(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('stage', options, [stagePhase, refeedPhase({ skipSelectedModels: false })]);
}

/** `kiln freshness`: check the selected sources against their freshness rules. */
export function freshness(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('freshness', options, [freshnessPhase]);
}
