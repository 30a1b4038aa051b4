import type { Adapter } from '../adapters/adapter.js';
import { KilnErrors } from '../errors.js';
import type { Phase, RunContext } from '../execute/phase.js';
import { validateSelection, type ValidationOutcome, type ValidationScope } from '../execute/validate-selection.js';
import type { StepKind } from '../plan/plan.js';
import { openInvocation, type Invocation } from './invocation.js';
import type { InvocationOptions } from './options.js';
import { openWarehouse } from './warehouse.js';

/** Everything a build would run: seeds, models and their data tests. */
const EVERYTHING: ValidationScope = { kinds: new Set<StepKind>(['seed', 'model']), tests: true };

/**
 * `kiln compile --validate`: the selection checked on the target, nothing changed (a scratch
 * database of its own is made and dropped). It takes the target's lock like a run, so it never
 * drops the shadow of a live validation. Errors are thrown together (exit 2).
 */
export async function validate(options: InvocationOptions, invocation?: Invocation): Promise<ValidationOutcome> {
  const inv = invocation ?? openInvocation(options);
  const warehouse = await openWarehouse(inv, 'validate', true);
  try {
    return await checkOrThrow(inv, warehouse.adapter, EVERYTHING);
  } finally {
    await warehouse.close();
  }
}

/**
 * Validation for the phases a command is about to run, when one of them builds models or seeds
 * (`kiln test` alone changes nothing worth guarding, and a test's SQL error is its own result).
 */
export async function checkPhases(ctx: RunContext, adapter: Adapter, phases: readonly Phase[]): Promise<void> {
  const kinds = new Set(phases.flatMap((p) => p.checks?.kinds ?? []));
  const tests = phases.some((p) => p.checks?.tests === true);
  if (kinds.size === 0) return;
  await checkOrThrow(ctx, adapter, { kinds, tests });
}

async function checkOrThrow(ctx: RunContext, adapter: Adapter, scope: ValidationScope): Promise<ValidationOutcome> {
  const outcome = await validateSelection(ctx, adapter, scope);
  const target = ctx.compiled.project.target.name;
  const seconds = (outcome.elapsedMs / 1000).toFixed(2);
  const skipped = outcome.notChecked ? `, ${outcome.notChecked} not checked (they read a node with an error, or render at run time)` : '';
  const hooks = outcome.hooks ? ` and ${outcome.hooks} hooks` : '';
  ctx.reporter.emit({
    type: 'info',
    message: outcome.errors.length
      ? `Validation on target '${target}' found ${outcome.errors.length} error${outcome.errors.length === 1 ? '' : 's'} before any change (${outcome.checked} nodes checked${skipped})`
      : `Validated ${outcome.checked} nodes${hooks} on target '${target}' in ${seconds}s${skipped}`,
  });
  if (outcome.errors.length === 1) throw outcome.errors[0];
  if (outcome.errors.length > 1) throw new KilnErrors([...outcome.errors]);
  return outcome;
}
