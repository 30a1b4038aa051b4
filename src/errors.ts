/**
 * Errors are values: a code, an optional location and a hint. Only `src/cli` turns them into
 * output and exit codes (see `exitCodeFor`).
 */

/** Where in the user's project something went wrong. `line`/`column` are 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * `invalid`: the project or invocation is wrong, nothing was executed (exit 2).
 * `runtime`: something failed while executing (exit 1).
 */
export type ErrorKind = 'invalid' | 'runtime';

/** What went wrong, in a word the CLI can map to an exit code and tests can match. */
export type ErrorCode =
  | 'PROJECT_NOT_FOUND'
  | 'YAML_INVALID'
  | 'CONFIG_INVALID'
  | 'TEMPLATE_ERROR'
  | 'UNKNOWN_REF'
  | 'UNKNOWN_SOURCE'
  | 'UNKNOWN_VAR'
  | 'UNKNOWN_MACRO'
  | 'DUPLICATE_NODE'
  | 'CYCLE'
  | 'SELECTOR_INVALID'
  | 'TARGET_INVALID'
  | 'WAREHOUSE_UNREACHABLE'
  | 'WAREHOUSE_IN_USE'
  /** Another run holds the target's lock (exit 2: nothing was executed). */
  | 'TARGET_LOCKED'
  /** This run's lock was broken or taken while it ran: it stopped before its next statement. */
  | 'TARGET_LOCK_LOST'
  | 'SQL_ERROR'
  /** A model's columns or types differ from its enforced contract (a node error: exit 1). */
  | 'CONTRACT_MISMATCH'
  | 'SQL_INVALID'
  | 'STATE_INVALID'
  | 'SOURCE_UNREACHABLE'
  | 'SOURCE_MISSING'
  | 'STAGE_FAILED'
  /** `kiln deps` could not download a package (no network, a wrong address). */
  | 'PACKAGE_UNREACHABLE'
  | 'INTERNAL';

const INVALID_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'PROJECT_NOT_FOUND',
  'YAML_INVALID',
  'CONFIG_INVALID',
  'TEMPLATE_ERROR',
  'UNKNOWN_REF',
  'UNKNOWN_SOURCE',
  'UNKNOWN_VAR',
  'UNKNOWN_MACRO',
  'DUPLICATE_NODE',
  'CYCLE',
  'SELECTOR_INVALID',
  'TARGET_INVALID',
  'SQL_INVALID',
  'WAREHOUSE_UNREACHABLE',
  'WAREHOUSE_IN_USE',
  'TARGET_LOCKED',
  'STATE_INVALID',
  'SOURCE_UNREACHABLE',
  'SOURCE_MISSING',
  'PACKAGE_UNREACHABLE',
]);

/** An error a user can act on: a code, where in their project (`file:line`), and a hint. */
export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { location?: SourceLocation; hint?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KilnError';
    this.code = code;
    this.location = opts.location;
    this.hint = opts.hint;
  }

  get kind(): ErrorKind {
    return INVALID_CODES.has(this.code) ? 'invalid' : 'runtime';
  }
}

/** Several independent problems found in one pass (compile reports them all, not the first). */
export class KilnErrors extends Error {
  readonly errors: readonly KilnError[];
  constructor(errors: readonly KilnError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'KilnErrors';
    this.errors = errors;
  }
}

/** Throws one error or all of them; does nothing for an empty list. */
export function throwAll(errors: readonly KilnError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new KilnErrors(errors);
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let out = loc.file;
  if (loc.line !== undefined) out += `:${loc.line}`;
  if (loc.line !== undefined && loc.column !== undefined) out += `:${loc.column}`;
  return out;
}

/** One readable line (plus a hint line) for a user: `file:line: message`. */
export function formatError(err: KilnError): string {
  const where = formatLocation(err.location);
  const head = where ? `${where}: ${err.message}` : err.message;
  return err.hint ? `${head}\n  hint: ${err.hint}` : head;
}

/** A problem worth telling the user that does not stop the command. */
export interface Warning {
  readonly message: string;
  readonly location?: SourceLocation;
  readonly hint?: string;
  /**
   * A key or argument kiln does not know (most likely a typo that switches something off): an
   * error under strict mode (`--strict`, `strict: true`, `CI=true`), see compile's strictness.
   */
  readonly unknownKey?: true;
  /**
   * A materialization kiln does not have, named by a config: an error at compile unless a
   * `{% materialization %}` block of the project or a package defines it (known only then).
   */
  readonly materialization?: string;
}
