import { KilnError, type SourceLocation } from '../errors.js';
import { constructHint, constructMessage, rejectedConstruct, unknownNameHint, type ServerConstruct } from './server-constructs.js';

/** ClickHouse's own error text without the "Code: N. DB::Exception:" prefix and stack trace. */
export function cleanClickHouseMessage(message: string): string {
  return message
    // 18.16: "Code: 60, e.displayText() = DB::Exception: …, e.what() = DB::Exception"
    .replace(/^Code:\s*\d+,\s*e\.displayText\(\) = /, '')
    .replace(/,\s*e\.what\(\) = DB::Exception\s*$/, '')
    .replace(/^Code:\s*\d+\.\s*/, '')
    .replace(/^DB::Exception:\s*/, '')
    .replace(/\s*Stack trace:[\s\S]*$/, '')
    .replace(/\s*\(version [\d.]+[^)]*\)\s*$/, '')
    .trim();
}

/**
 * A statement ClickHouse rejected. `clickhouseCode` is ClickHouse's numeric error code. When the
 * rejection is an old server lacking a construct (server-constructs.ts), the message starts by
 * naming it and the release that has it, and the hint says what to write instead.
 */
export class SqlError extends KilnError {
  /** The construct this server lacks, when that is why it rejected the statement. */
  readonly missing: ServerConstruct | undefined;

  constructor(
    message: string,
    readonly clickhouseCode: number | undefined,
    readonly sql: string,
    cause?: unknown,
    location?: SourceLocation,
    missing: ServerConstruct | undefined = rejectedConstruct(message, sql),
  ) {
    const clean = cleanClickHouseMessage(message);
    const prefix = missing ? `${constructMessage(missing)}: ` : '';
    const hint = missing ? constructHint(missing) : unknownNameHint(clean);
    super('SQL_ERROR', clean.startsWith(prefix) ? clean : prefix + clean, {
      cause,
      ...(location ? { location } : {}),
      ...(hint ? { hint } : {}),
    });
    this.missing = missing;
  }

  /** The same error, placed in a file (the model's own line: sql-error-location.ts). */
  at(location: SourceLocation, message: string = this.message): SqlError {
    return new SqlError(message, this.clickhouseCode, this.sql, this.cause, location, this.missing);
  }
}

/** ClickHouse's numeric error code from a message in either the old or the new format. */
export function clickHouseCodeOf(message: string): number | undefined {
  const m = /^Code:\s*(\d+)[.,]/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** ClickHouse error codes kiln reacts to. */
export const CH_ERRORS = {
  UNKNOWN_TABLE: 60,
  UNKNOWN_DATABASE: 81,
  TABLE_ALREADY_EXISTS: 57,
  UNKNOWN_SETTING: 115,
  WRONG_PASSWORD: 193,
  UNKNOWN_USER: 192,
  AUTHENTICATION_FAILED: 516,
  /** A quorum INSERT into a Replicated table while another one's quorum is still pending (18.16 allows one at a time per table). */
  UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE: 286,
} as const;
