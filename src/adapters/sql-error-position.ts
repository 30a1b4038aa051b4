/**
 * Where in its statement ClickHouse says an error is: a syntax error's position (current servers
 * add line and column, 18.16 only the position), or the name of an identifier, function or table
 * it does not know, to be looked for in the text. Pure text over ClickHouse's message formats.
 */
export type ErrorPosition =
  /** 0-based offset into the statement. */
  | { readonly offset: number }
  /** A name the statement uses that ClickHouse could not resolve. */
  | { readonly name: string; readonly call: boolean };

export function errorPosition(message: string, statement: string): ErrorPosition | undefined {
  const lineCol = /\(line (\d+), col (\d+)\)/.exec(message);
  if (lineCol) {
    const lines = statement.split('\n');
    const line = Number(lineCol[1]);
    if (line >= 1 && line <= lines.length) {
      const before = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      return { offset: before + Number(lineCol[2]) - 1 };
    }
  }
  const position = /failed at position (\d+)/.exec(message);
  if (position) return { offset: Math.max(0, Number(position[1]) - 1) };
  const identifier =
    /Unknown (?:expression (?:or function )?)?identifier[:\s]+[`'"]?([^`'"\s]+)[`'"]?/.exec(message) ??
    /Missing columns: '([^']+)'/.exec(message) ??
    /There's no column '([^']+)'/.exec(message);
  if (identifier) return { name: lastPart(identifier[1]!), call: false };
  const fn = /Unknown function (\w+)/.exec(message) ?? /Function with name [`']?(\w+)[`']? does not exist/.exec(message);
  if (fn) return { name: fn[1]!, call: true };
  return undefined;
}

/** `t.col` → `col`: ClickHouse may name a column with its table. */
function lastPart(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot >= 0 ? name.slice(dot + 1) : name;
}

/**
 * The message without the position in the statement ClickHouse saw (line 7 of a CREATE … AS),
 * once the error is placed on the model's own line: two different line numbers would mislead.
 */
export function withoutStatementPosition(message: string): string {
  return message
    .replace(/failed at position \d+ \((.*?)\) \(line \d+, col \d+\)/, "failed at '$1'")
    .replace(/failed at position \d+/, 'failed');
}
