import { KilnError, KilnErrors, type Warning } from './errors.js';

/**
 * The one place a compile collects what it finds: every stage (read → render → link → tests)
 * reports into the same sink and goes on, so one run shows every problem of a project. Only the
 * end of compile turns the errors into a throw (see `throwIfErrors`).
 */
export class Diagnostics {
  readonly errors: KilnError[] = [];
  readonly warnings: Warning[] = [];

  error(err: KilnError): void {
    this.errors.push(err);
  }

  warn(warning: Warning): void {
    this.warnings.push(warning);
  }

  /**
   * Runs one unit of work (a file, a node, a test): a KilnError it throws is recorded and the
   * result is undefined; anything else is a bug in kiln and propagates.
   */
  capture<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (err) {
      if (!(err instanceof KilnError)) throw err;
      this.errors.push(err);
      return undefined;
    }
  }

  /**
   * Strict mode: every warning about an unknown key or test argument becomes an error (exit 2,
   * nothing runs), reported with the rest; `reason` says what made the compile strict.
   */
  promoteUnknownKeys(reason: string): void {
    for (let i = 0; i < this.warnings.length; i++) {
      const w = this.warnings[i]!;
      if (!w.unknownKey) continue;
      this.warnings.splice(i--, 1);
      const because = `an error under ${reason}`;
      this.errors.push(new KilnError('CONFIG_INVALID', w.message.replace(/ \(ignored\)$/, ''), {
        ...(w.location ? { location: w.location } : {}),
        hint: w.hint ? `${w.hint} (${because})` : because,
      }));
    }
  }

  /**
   * Unknown materializations, held as warnings until the macros are loaded: one that a
   * `{% materialization %}` block defines is dropped (a model using it fails only when selected
   * to run), any other becomes an error at the config that names it. Returns the names reported.
   */
  settleMaterializations(defined: (name: string) => boolean): Set<string> {
    const reported = new Set<string>();
    for (let i = 0; i < this.warnings.length; i++) {
      const w = this.warnings[i]!;
      if (w.materialization === undefined) continue;
      this.warnings.splice(i--, 1);
      if (defined(w.materialization)) continue;
      reported.add(w.materialization);
      this.errors.push(new KilnError('CONFIG_INVALID', w.message, { ...(w.location ? { location: w.location } : {}), ...(w.hint ? { hint: w.hint } : {}) }));
    }
    return reported;
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  /** Throws the one error, or all of them together; does nothing when there are none. */
  throwIfErrors(): void {
    if (this.errors.length === 1) throw this.errors[0];
    if (this.errors.length > 1) throw new KilnErrors(this.errors);
  }
}
