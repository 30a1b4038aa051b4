import { testPhase } from '../testing/test-phase.js';
import type { InvocationOptions } from './options.js';
import { executeCommand, type CommandOutcome } from './run.js';

/** `kiln test`: the selected data tests and unit tests, against what is already built. */
export function test(options: InvocationOptions): Promise<CommandOutcome> {
  return executeCommand('test', options, [testPhase]);
}
