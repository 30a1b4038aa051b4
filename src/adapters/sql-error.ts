import { KilnError, type SourceLocation } from '../errors.js';

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

/** A statement ClickHouse rejected. `clickhouseCode` is ClickHouse's numeric error code. */
export class SqlError extends KilnError {
  constructor(
    message: string,
    readonly clickhouseCode: number | undefined,
    readonly sql: string,
    cause?: unknown,
    location?: SourceLocation,
  ) {
    super('SQL_ERROR', cleanClickHouseMessage(message), { cause, ...(location ? { location } : {}) });
  }

  /** The same error, placed in a file (the model's own line: sql-error-location.ts). */
  at(location: SourceLocation, message: string = this.message): SqlError {
    return new SqlError(message, this.clickhouseCode, this.sql, this.cause, location);
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
} as const;
