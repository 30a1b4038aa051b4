import { insertInto, withSettings } from './ddl.js';
import type { Driver } from './driver.js';
import { WrappingDriver, type DriverCall } from './wrapping-driver.js';

/**
 * A driver that adds up the time ClickHouse reports for each statement, so a step that runs many
 * (staging a table) can report its query time like a model does, and keeps the text of each
 * statement for target/run/. It shares the inner driver's connection and does not close it.
 */
export class MeteredDriver extends WrappingDriver {
  elapsedMs = 0;
  /** Each statement as sent (with its SETTINGS), in the order sent; inserts of a body name their format. */
  readonly statements: string[] = [];

  constructor(inner: Driver) {
    super(inner, false);
  }

  protected async around<R>(call: DriverCall, run: () => Promise<R>): Promise<R> {
    const text = statementText(call);
    if (text !== undefined) this.statements.push(text);
    const r = await run();
    // describeFile returns columns, not an ExecResult: it has no time to add.
    if (typeof r === 'object' && r !== null && 'elapsedMs' in r && typeof r.elapsedMs === 'number') this.elapsedMs += r.elapsedMs;
    return r;
  }
}

/** What target/run/ shows for a call; local reads send nothing to the target and show nothing. */
function statementText(call: DriverCall): string | undefined {
  switch (call.method) {
    case 'execute':
    case 'query':
      return withSettings(call.sql, call.opts?.settings);
    case 'insertStream':
      return `${insertInto(call.table, call.opts?.columns, { format: call.format })}\n-- (rows streamed in ${call.format})`;
    case 'insertFile':
      return insertInto(call.table, undefined, { file: call.path, format: call.format, ...(call.opts?.structure ? { structure: call.opts.structure } : {}) });
    case 'insertLocalSelect':
      return withSettings(insertInto(call.table, call.columns, { select: call.select }), { ...call.opts?.settings, ...call.opts?.insertSettings });
    case 'describeFile':
    case 'queryLocal':
      return undefined;
  }
}
