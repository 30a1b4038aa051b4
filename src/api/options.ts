import type { RunOptions } from '../execute/phase.js';
import type { Reporter } from '../report/events.js';

/** Flags every command shares (DESIGN: CLI, global flags); `select`, `exclude`, `state` and `fullRefresh` come from RunOptions. */
export interface InvocationOptions extends RunOptions {
  readonly projectDir?: string;
  readonly target?: string;
  /** Where dbt's profiles.yml is (`--profiles-dir`); else DBT_PROFILES_DIR, the project folder, ~/.dbt. */
  readonly profilesDir?: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly threads?: number;
  readonly failFast?: boolean;
  /** Write the results as JUnit XML to this file too (absolute, or relative to the working folder). */
  readonly junit?: string;
  readonly reporter?: Reporter;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * When the target is locked by another run: false/absent refuses at once (exit 2), true waits
   * until it is released, a number waits up to that many seconds.
   */
  readonly wait?: boolean | number;
  /** Unknown YAML keys and test arguments are errors (`--strict`); project.yml or CI=true may also say so. */
  readonly strict?: boolean;
}
