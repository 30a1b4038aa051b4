/**
 * Most model files use Jinja only for `{{ ref('x') }}`, `{{ source('a', 'b') }}` and
 * `{{ config(materialized='view') }}`. Compiling each through nunjucks (lexer, parser, code
 * generator, `new Function`) costs ~0.2 ms a file, most of a 10k-model compile. A template made of
 * plain text and `{{ name(literal, key=literal) }}` calls is parsed here instead; anything else
 * (blocks, comments, filters, variables, whitespace control, escapes) returns undefined and goes to
 * nunjucks. The grammar accepted is a strict subset of nunjucks', with the same meaning.
 */

export type Literal = string | number | boolean | readonly Literal[];

export interface SimpleCall {
  readonly fn: string;
  /** Positional arguments, then (if any) the keyword arguments, as nunjucks passes them. */
  readonly args: readonly Literal[];
  readonly kwargs: ReadonlyArray<readonly [string, Literal]> | undefined;
}

export type SimplePart = string | SimpleCall;

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const INT = /[0-9]+/y;
const WS = /[ \t\r\n]*/y;
const RESERVED = new Set(['true', 'false', 'none', 'null', 'True', 'False', 'None', 'and', 'or', 'not', 'in', 'is', 'if', 'else']);

/** Splits a template into text and calls, or undefined when it needs nunjucks. */
export function parseSimpleTemplate(code: string, callable: { has(name: string): boolean }): SimplePart[] | undefined {
  // Blocks, comments and a stray comment end (a nunjucks syntax error) all go to nunjucks.
  if (code.includes('{%') || code.includes('{#') || code.includes('#}')) return undefined;
  const parts: SimplePart[] = [];
  let pos = 0;
  while (pos < code.length) {
    const open = code.indexOf('{{', pos);
    if (open < 0) {
      parts.push(code.slice(pos));
      break;
    }
    if (open > pos) parts.push(code.slice(pos, open));
    const parser = new ExprParser(code, open + 2);
    const call = parser.call(callable);
    if (!call) return undefined;
    parts.push(call);
    pos = parser.pos;
  }
  return parts;
}

class ExprParser {
  constructor(
    private readonly s: string,
    public pos: number,
  ) {}

  /** `name(args) }}` with the closing braces consumed, or undefined. */
  call(callable: { has(name: string): boolean }): SimpleCall | undefined {
    if (this.s[this.pos] === '-') return undefined; // `{{-` trims whitespace
    this.ws();
    const fn = this.name();
    if (fn === undefined || !callable.has(fn)) return undefined;
    this.ws();
    if (!this.eat('(')) return undefined;
    const args: Literal[] = [];
    const kwargs: Array<readonly [string, Literal]> = [];
    this.ws();
    if (!this.eat(')')) {
      for (;;) {
        this.ws();
        const key = this.keyword();
        const value = this.literal();
        if (value === undefined) return undefined;
        if (key === undefined) args.push(value);
        else kwargs.push([key, value]);
        this.ws();
        if (this.eat(')')) break;
        if (!this.eat(',')) return undefined;
      }
    }
    this.ws();
    if (!this.s.startsWith('}}', this.pos)) return undefined;
    this.pos += 2;
    return { fn, args, kwargs: kwargs.length ? kwargs : undefined };
  }

  /** `name =` (consumed, name returned) before a keyword argument's value; else nothing consumed. */
  private keyword(): string | undefined {
    const start = this.pos;
    const key = this.name();
    if (key !== undefined && !RESERVED.has(key)) {
      this.ws();
      if (this.s[this.pos] === '=' && this.s[this.pos + 1] !== '=') {
        this.pos++;
        this.ws();
        return key;
      }
    }
    this.pos = start;
    return undefined;
  }

  private literal(): Literal | undefined {
    const c = this.s[this.pos];
    if (c === "'" || c === '"') {
      const end = this.s.indexOf(c, this.pos + 1);
      if (end < 0) return undefined;
      const text = this.s.slice(this.pos + 1, end);
      if (text.includes('\\')) return undefined; // escapes: leave them to nunjucks
      this.pos = end + 1;
      return text;
    }
    if (c === '[') {
      this.pos++;
      const items: Literal[] = [];
      this.ws();
      if (this.eat(']')) return items;
      for (;;) {
        this.ws();
        const item = this.literal();
        if (item === undefined) return undefined;
        items.push(item);
        this.ws();
        if (this.eat(']')) return items;
        if (!this.eat(',')) return undefined;
      }
    }
    INT.lastIndex = this.pos;
    const int = INT.exec(this.s);
    if (int) {
      // `1.5`, `1e3`, `1abc`: not a plain integer token.
      if (/[.\w]/.test(this.s[INT.lastIndex] ?? '')) return undefined;
      this.pos = INT.lastIndex;
      return Number.parseInt(int[0], 10);
    }
    const word = this.name();
    if (word === 'true') return true;
    if (word === 'false') return false;
    return undefined;
  }

  private name(): string | undefined {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.s);
    if (!m) return undefined;
    this.pos = NAME.lastIndex;
    return m[0];
  }

  private ws(): void {
    WS.lastIndex = this.pos;
    WS.exec(this.s);
    this.pos = WS.lastIndex;
  }

  private eat(ch: string): boolean {
    if (this.s[this.pos] !== ch) return false;
    this.pos++;
    return true;
  }
}
