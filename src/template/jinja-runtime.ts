import nunjucks from 'nunjucks';

/**
 * Where nunjucks' language differs from Jinja as dbt renders it, kiln changes nunjucks: the
 * `{% do %}` tag, `return(...)` of any value, `kwargs`/`varargs` in macros, `{% set ns.x = ... %}`,
 * dict literals with expression keys, macros named `_x` visible to other files, and the macro
 * file's line in errors raised inside a macro. Like jinja-compat.ts these patch nunjucks once per
 * process (configuration, not per-render state); a template's generated code goes through
 * `kilnCompiledSource` so the patches that need it see the template's own variables.
 */

/** Part of the template cache's key: bump when a change here changes nunjucks' generated code. */
export const JINJA_RUNTIME_VERSION = 5;

/** Thrown by `return(value)`; the macro that is running catches it and returns the value. */
export class MacroReturn {
  constructor(readonly value: unknown) {}
  /** What nunjucks prints when return() runs outside any macro. */
  toString(): string {
    return 'return() was called outside a macro';
  }
}

/** A macro call that is running: its extra keyword and positional arguments (`kwargs`, `varargs`). */
interface MacroCall {
  readonly kwargs: Record<string, unknown>;
  readonly varargs: unknown[];
}

/** Where an error passed through a macro on its way out: the macro file and its line (1-based). */
export interface MacroFrame {
  readonly file: string;
  readonly line: number;
}

const calls: MacroCall[] = [];
/** The macros an error passed through, innermost first; reset by `startRender`. */
let trace: MacroFrame[] = [];
let traced: unknown;

/** Called before each render: forgets the previous render's macro trace. */
export function startRender(): void {
  trace = [];
  traced = undefined;
  calls.length = 0;
}

/** The macros the last error passed through, innermost first. */
export function macroTrace(): readonly MacroFrame[] {
  return trace;
}

/** The extra keyword arguments of the innermost running macro (Jinja's `kwargs`). */
export function currentKwargs(): Record<string, unknown> {
  return calls[calls.length - 1]?.kwargs ?? {};
}

/** The extra positional arguments of the innermost running macro (Jinja's `varargs`). */
export function currentVarargs(): unknown[] {
  return calls[calls.length - 1]?.varargs ?? [];
}

/** `*args` in a call: its items become positional arguments. */
export class Spread {
  constructor(readonly items: unknown) {}
}

/** `**kwargs` in a call: its entries become keyword arguments. */
export class KeywordSplat {
  constructor(readonly entries: unknown) {}
}

/** A call's arguments with `*args` / `**kwargs` markers expanded (nunjucks' keyword object last). */
function expandArguments(args: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  let keywords: Record<string, unknown> | undefined;
  for (const arg of args) {
    if (arg instanceof Spread) out.push(...(arg.items == null ? [] : [...(arg.items as Iterable<unknown>)]));
    else if (arg instanceof KeywordSplat) keywords = { ...keywords, ...(arg.entries as Record<string, unknown>) };
    else if (arg && typeof arg === 'object' && (arg as { __keywords?: unknown }).__keywords === true) keywords = { ...keywords, ...(arg as Record<string, unknown>) };
    else out.push(arg);
  }
  if (keywords) {
    const { __keywords: _k, ...rest } = keywords;
    if (Object.keys(rest).length) out.push({ ...rest, __keywords: true });
  }
  return out;
}

interface Runtime {
  callWrap(obj: unknown, name: string, context: unknown, args: unknown[]): unknown;
  makeMacro(argNames: string[], kwargNames: string[], func: (...a: unknown[]) => unknown): (...a: unknown[]) => unknown;
  numArgs(args: unknown[]): number;
  kilnMacro?: unknown;
}

/** Reads a variable of the template's generated code, or sets it when given a value. */
type Accessor = (value?: unknown) => unknown;

/**
 * makeMacro plus what Jinja has: `return()` ends the macro with its value, arguments the macro
 * does not declare are `kwargs`/`varargs`, and an error leaving the macro records its file:line.
 * `lineOf` reads the macro file's current line; `frameOf` reads or restores the template's frame
 * variable, which nunjucks' macro code leaves changed when the macro ends by an exception.
 */
function kilnMacro(runtime: Runtime, file: string, lineOf: Accessor, frameOf: Accessor, argNames: string[], kwargNames: string[], func: (...a: unknown[]) => unknown) {
  const macro = runtime.makeMacro(argNames, kwargNames, func);
  const declared = new Set([...argNames, ...kwargNames, 'caller', '__keywords']);
  return function kilnMacroCall(this: unknown, ...args: unknown[]): unknown {
    const positional = runtime.numArgs(args);
    const last = args[args.length - 1] as Record<string, unknown> | undefined;
    const kwargs: Record<string, unknown> = {};
    if (positional < args.length && last) {
      for (const [k, v] of Object.entries(last)) if (!declared.has(k)) kwargs[k] = v;
    }
    const varargs = args.slice(argNames.length + kwargNames.length, positional);
    const frame = frameOf();
    // The file's line variable is shared by its macros: on entry it holds the caller's line when
    // the caller is in the same file, and is put back on the way out so the caller reports its own.
    const entryLine = lineOf();
    calls.push({ kwargs, varargs });
    try {
      return macro.apply(this, args);
    } catch (err) {
      frameOf(frame);
      if (err instanceof MacroReturn) return err.value;
      if (traced !== err) {
        trace = [];
        traced = err;
      }
      trace.push({ file, line: Number(lineOf()) + 1 });
      lineOf(entryLine);
      throw err;
    } finally {
      calls.pop();
    }
  };
}

/**
 * nunjucks' generated code for one template, changed so macros go through kilnMacro (with the
 * template's file, its line and frame variables) and macros named `_x` are exported too: dbt lets
 * any file call them.
 */
export function kilnCompiledSource(source: string, file: string): string {
  const where = JSON.stringify(file);
  return source
    .replace(/runtime\.makeMacro\(/g, `runtime.kilnMacro(runtime, ${where}, function (l) { if (arguments.length) { lineno = l; } return lineno; }, function (f) { if (arguments.length) { frame = f; } return frame; }, `)
    .replace(/context\.setVariable\("(_[^"]*)", (macro_t_\d+)\);/g, 'context.addExport("$1"); context.setVariable("$1", $2);');
}

/** `f(a, b,)`, `[a, b,]`, `{'k': v,}`: Python's trailing commas, which nunjucks refuses. */
function withoutTrailingCommas(tag: string): string {
  return tag.includes(',') ? tag.replace(/,(\s*)(?=[)\]}])/g, '$1') : tag;
}

/**
 * Jinja nunjucks does not parse, rewritten on the same lines into what it does:
 * `{% set ns.attr = value %}` assigns an attribute of a namespace(), and `*args` / `**kwargs` in a
 * call become markers that the call expands.
 */
export function jinjaToNunjucks(code: string): string {
  return withLoopFilters(code)
    .replace(/{{[\s\S]*?}}|{%[\s\S]*?%}/g, (whole) => {
      const tag = withoutTrailingCommas(whole);
      // `f(a, *args, **kwargs)`: markers that callWrap expands (see installJinjaRuntime).
      return tag.includes('*')
        ? tag.replace(/([(,]\s*)\*\*\s*([A-Za-z_][\w.]*)/g, '$1__kiln_kwsplat($2)').replace(/([(,]\s*)\*\s*([A-Za-z_][\w.]*)/g, '$1__kiln_spread($2)')
        : tag;
    })
    .replace(/{%(-?)\s*set\s+([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*=([\s\S]*?)(-?)%}/g, (_m, open: string, obj: string, attr: string, value: string, close: string) =>
    `{%${open} do __kiln_setattr(${obj}, "${attr}", (${value})) ${close}%}`,
  )
    // The block form `{% set ns.x %}…{% endset %}`: the body is captured, then set on the namespace.
    .replace(/{%(-?)\s*set\s+([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*(-?)%}([\s\S]*?){%(-?)\s*endset\s*(-?)%}/g, (_m, open: string, obj: string, attr: string, close: string, body: string, open2: string, close2: string) => {
      const name = `__kiln_block_${obj}_${attr}`;
      return `{%${open} set ${name} ${close}%}${body}{%${open2} endset %}{% do __kiln_setattr(${obj}, "${attr}", ${name}) ${close2}%}`;
    });
}

/**
 * Jinja's loop filter `{% for x in xs if cond %}`, which nunjucks would read as an inline if (and
 * loop zero times): the items that pass are collected first, then looped over, so `loop.last`
 * and `loop.index` count only them, as in Jinja. The tag stays on its line.
 */
function withLoopFilters(code: string): string {
  let n = 0;
  return code.replace(/{%(-?)\s*for\s+([\w\s,()]+?)\s+in\s+([\s\S]*?)\s*(-?)%}/g, (whole, open: string, targets: string, rest: string, close: string) => {
    const at = topLevelIf(rest);
    if (at === undefined) return whole;
    const iterable = rest.slice(0, at).trim();
    const cond = rest.slice(at + ' if '.length).trim();
    // `xs if c else ys` is nunjucks' own conditional iterable (Jinja needs parentheses there): left as it is.
    if (/\selse\s/.test(` ${cond} `)) return whole;
    const names = targets.replace(/[()]/g, '').split(',').map((t) => t.trim()).filter(Boolean);
    const item = names.length === 1 ? names[0]! : `[${names.join(', ')}]`;
    const list = `__kiln_loop_filter_${n++}`;
    return (
      `{%${open} set ${list} = [] -%}{%- for ${names.join(', ')} in ${iterable} -%}{%- if ${cond} -%}{%- do ${list}.append(${item}) -%}{%- endif -%}{%- endfor -%}` +
      `{%- for ${names.join(', ')} in ${list} ${close}%}`
    );
  });
}

/** Where ` if ` starts in a for tag's `iterable if cond`, outside brackets and quotes. */
function topLevelIf(text: string): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0 && /\s/.test(c) && text.startsWith('if', i + 1) && /\s/.test(text[i + 3] ?? '')) return i;
  }
  return undefined;
}

interface ParserLike {
  nextToken(): { value: string; lineno: number; colno: number };
  parseExpression(): unknown;
  advanceAfterBlockEnd(name: string): void;
}
interface NodesLike {
  CallExtension: new (ext: object, prop: string, args: unknown, contentArgs: unknown[]) => unknown;
  NodeList: new (lineno: number, colno: number, children: unknown[]) => unknown;
}

/** `{% do expr %}`: evaluates the expression for its effect, prints nothing. */
export class DoExtension {
  readonly tags = ['do'];
  parse(parser: ParserLike, nodes: NodesLike): unknown {
    const tok = parser.nextToken();
    const expr = parser.parseExpression();
    parser.advanceAfterBlockEnd(tok.value);
    return new nodes.CallExtension(this, 'run', new nodes.NodeList(tok.lineno, tok.colno, [expr]), []);
  }
  run(): string {
    return '';
  }
}

const SafeString = (nunjucks as unknown as { runtime: { SafeString: new (s: string) => object } }).runtime.SafeString;

/** Python's truth: empty lists, dicts and strings are false (in JS `[]` and `{}` are true). */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value instanceof SafeString) return String(value) !== '';
  if (value && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === Object.prototype || proto === null) return Object.keys(value).some((k) => k !== '__keywords');
    return true;
  }
  return Boolean(value);
}

/** Python's `+`: two lists concatenate; anything else adds as nunjucks does (numbers, text). */
function add(a: unknown, b: unknown): unknown {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  // eslint-disable-next-line @typescript-eslint/restrict-plus-operands -- nunjucks compiles Jinja's + to JS +.
  return (a as number) + (b as number);
}

/** Python's `==` for lists and dicts (element by element); other values as nunjucks compares them. */
export function equal(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (a instanceof SafeString || b instanceof SafeString) return String(a) === String(b);
  const plain = (v: unknown) => !!v && typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);
  if (plain(a) && plain(b)) {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  // eslint-disable-next-line eqeqeq -- nunjucks compiles Jinja's == to JS ==; kept for the primitives.
  return a == b;
}

/** A condition compiled through `truthy` (see installJinjaRuntime). */
class TruthyNode {
  readonly typename = 'KilnTruthy';
  constructor(
    readonly expr: { lineno?: number; colno?: number },
    readonly lineno = expr.lineno,
    readonly colno = expr.colno,
  ) {}
}

interface CompilerProto {
  assertType(this: CompilerProto, node: unknown, ...types: unknown[]): void;
  compileIf(this: CompilerProto, node: { cond: unknown }, frame: unknown, async?: unknown): void;
  compileInlineIf(this: CompilerProto, node: { cond: unknown }, frame: unknown): void;
  compileAnd(this: CompilerProto, node: { left: unknown; right: unknown }, frame: unknown): void;
  compileOr(this: CompilerProto, node: { left: unknown; right: unknown }, frame: unknown): void;
  compileNot(this: CompilerProto, node: { target: unknown }, frame: unknown): void;
  compileCompare(this: CompilerProto, node: { expr: unknown; ops: Array<{ type: string; expr: unknown }> }, frame: unknown): void;
  compileAdd(this: CompilerProto, node: { left: unknown; right: unknown }, frame: unknown): void;
  compileKilnTruthy?(this: CompilerProto, node: TruthyNode, frame: unknown): void;
  _getNodeName(this: CompilerProto, node: unknown): string;
  compilePair(this: CompilerProto, node: { key: unknown; value: unknown }, frame: unknown): void;
  compileKeywordArgs(this: CompilerProto, node: { children: Array<{ key: { value: unknown }; value: unknown }> }, frame: unknown): void;
  compile(node: unknown, frame: unknown): void;
  _compileExpression(node: unknown, frame: unknown): void;
  _emit(code: string): void;
}

let installed = false;

/** Patches nunjucks' runtime and compiler (once per process). */
export function installJinjaRuntime(): void {
  if (installed) return;
  installed = true;
  const lib = nunjucks as unknown as {
    runtime: Runtime;
    compiler: { Compiler: { prototype: CompilerProto } };
    nodes: { Symbol: new (...a: unknown[]) => { value: string }; Literal: new (...a: unknown[]) => { value: unknown } };
  };
  lib.runtime.kilnMacro = kilnMacro;
  (lib.runtime as unknown as { kilnTruthy: typeof truthy }).kilnTruthy = truthy;
  (lib.runtime as unknown as { kilnEqual: typeof equal }).kilnEqual = equal;
  (lib.runtime as unknown as { kilnAdd: typeof add }).kilnAdd = add;
  const callWrap = lib.runtime.callWrap;
  lib.runtime.callWrap = function kilnCallWrap(obj, name, context, args) {
    const marked = args.some((a) => a instanceof Spread || a instanceof KeywordSplat);
    return callWrap.call(this, obj, name, context, marked ? expandArguments(args) : args);
  };
  const { Symbol: SymbolNode, Literal } = lib.nodes;
  // Jinja reads a dict key as an expression (`{col.name: 1}`, `{key: 1}` with key a variable);
  // nunjucks takes a bare name as a string. A name that is not defined keeps nunjucks' meaning.
  lib.compiler.Compiler.prototype.compilePair = function compilePair(node, frame) {
    const key = node.key;
    if (key instanceof Literal && typeof key.value === 'string') {
      this.compile(key, frame);
    } else if (key instanceof SymbolNode) {
      this._emit('[(');
      this.compile(key, frame);
      this._emit(`) ?? ${JSON.stringify(key.value)}]`);
    } else {
      this._emit('[');
      this._compileExpression(key, frame);
      this._emit(']');
    }
    this._emit(': ');
    this._compileExpression(node.value, frame);
  };
  // Conditions as Python reads them: `{% if [] %}`, `[] and x`, `not {}`.
  const proto = lib.compiler.Compiler.prototype;
  const assertType = proto.assertType;
  proto.assertType = function kilnAssertType(node, ...types) {
    if (node instanceof TruthyNode) return;
    assertType.call(this, node, ...types);
  };
  proto.compileKilnTruthy = function compileKilnTruthy(node, frame) {
    this._emit('runtime.kilnTruthy(');
    this.compile(node.expr, frame);
    this._emit(')');
  };
  const wrap = (cond: unknown) => (cond instanceof TruthyNode ? cond : new TruthyNode(cond as { lineno?: number }));
  const compileIf = proto.compileIf;
  proto.compileIf = function kilnCompileIf(node, frame, async) {
    node.cond = wrap(node.cond);
    compileIf.call(this, node, frame, async);
  };
  const compileInlineIf = proto.compileInlineIf;
  proto.compileInlineIf = function kilnCompileInlineIf(node, frame) {
    node.cond = wrap(node.cond);
    compileInlineIf.call(this, node, frame);
  };
  proto.compileNot = function kilnCompileNot(node, frame) {
    this._emit('!');
    this.compile(wrap(node.target), frame);
  };
  // `a and b` is a when a is false, else b (and b is evaluated only then): Python's operands, not booleans.
  proto.compileAnd = function kilnCompileAnd(node, frame) {
    this._emit('(function (t) { return runtime.kilnTruthy(t) ? ');
    this.compile(node.right, frame);
    this._emit(' : t; })(');
    this.compile(node.left, frame);
    this._emit(')');
  };
  proto.compileOr = function kilnCompileOr(node, frame) {
    this._emit('(function (t) { return runtime.kilnTruthy(t) ? t : ');
    this.compile(node.right, frame);
    this._emit('; })(');
    this.compile(node.left, frame);
    this._emit(')');
  };
  // nunjucks prints a callee's source text into a JS string unescaped: a multi-line literal broke it.
  const getNodeName = proto._getNodeName;
  proto._getNodeName = function kilnGetNodeName(node) {
    return getNodeName.call(this, node).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  };
  // `a == b` / `a != b` compare lists and dicts by value (`set(x) != set(y)` in dbt_utils' equality).
  const compileCompare = proto.compileCompare;
  proto.compileCompare = function kilnCompileCompare(node, frame) {
    const op = node.ops.length === 1 ? node.ops[0]!.type : '';
    if (op !== '==' && op !== '!=') return compileCompare.call(this, node, frame);
    this._emit(op === '==' ? '(runtime.kilnEqual(' : '(!runtime.kilnEqual(');
    this.compile(node.expr, frame);
    this._emit(', ');
    this.compile(node.ops[0]!.expr, frame);
    this._emit('))');
  };
  // `a + b` of two lists is one list, as in Python (`['id'] + group_by_columns` in dbt_utils); JS would join them as text.
  proto.compileAdd = function kilnCompileAdd(node, frame) {
    this._emit('runtime.kilnAdd(');
    this.compile(node.left, frame);
    this._emit(', ');
    this.compile(node.right, frame);
    this._emit(')');
  };
  // A call's keyword arguments are names, never expressions (`f(except=[])` with a macro `except`).
  lib.compiler.Compiler.prototype.compileKeywordArgs = function compileKeywordArgs(node, frame) {
    this._emit('runtime.makeKeywordArgs({');
    node.children.forEach((pair, i) => {
      if (i > 0) this._emit(',');
      this._emit(`${JSON.stringify(String(pair.key.value))}: `);
      this._compileExpression(pair.value, frame);
    });
    this._emit('})');
  };
}
