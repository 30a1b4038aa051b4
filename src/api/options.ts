import type { Reporter } from '../report/events.js';

/** Flags every command shares (DESIGN: CLI, global flags). */
export interface InvocationOptions {
  readonly projectDir?: string;
  readonly target?: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly threads?: number;
  readonly select?: readonly string[];
  readonly exclude?: readonly string[];
  readonly fullRefresh?: boolean;
  readonly failFast?: boolean;
  /** Folder holding an earlier manifest.json (and run_results.json) for state: / result: selectors. */
  readonly state?: string;
  /** Write the results as JUnit XML to this file too (absolute, or relative to the working folder). */
  readonly junit?: string;
  readonly reporter?: Reporter;
  readonly env?: Readonly<Record<string, string | undefined>>;
}
