import { KilnError, formatLocation, type SourceLocation, type Warning } from '../errors.js';
import type { MacroFile } from '../project/nodes.js';
import { unknownKeyWarning } from '../project/yaml-keys.js';
import { BUILTIN_TESTS_FILE } from './builtin-tests.js';

/** The parameters of a generic test's macro, as written in its `{% test name(...) %}` line. */
export interface TestSignature {
  readonly name: string;
  readonly params: ReadonlyArray<{ readonly name: string; readonly required: boolean }>;
  /** The body reads `kwargs`: it takes any keyword argument, so none is unknown. */
  readonly anyKeyword: boolean;
  /** One of kiln's own tests (builtin-tests.ts), not a project's definition of that name. */
  readonly builtin: boolean;
  readonly location: SourceLocation;
}

const DEFINITION = /{%-?\s*(?:test\s+(\w+)|macro\s+test_(\w+))\s*\(/g;

/**
 * Every generic test's signature, by test name; later files win, as they do in the template
 * engine (kiln's builtins first, then the project's macro files).
 */
export function testSignatures(projectMacros: readonly MacroFile[]): Map<string, TestSignature> {
  const out = new Map<string, TestSignature>();
  for (const file of [BUILTIN_TESTS_FILE, ...projectMacros]) {
    for (const m of file.source.matchAll(DEFINITION)) {
      const name = (m[1] ?? m[2])!;
      const open = m.index + m[0].length;
      const close = closingParen(file.source, open);
      if (close < 0) continue; // the template engine reports the broken macro
      const end = file.source.slice(close).search(/{%-?\s*end(?:test|macro)\b/);
      const body = end < 0 ? '' : file.source.slice(close, close + end);
      out.set(name, {
        name,
        params: splitParams(file.source.slice(open, close)),
        anyKeyword: /\bkwargs\b/.test(body),
        builtin: file === BUILTIN_TESTS_FILE,
        location: { file: file.path, line: file.source.slice(0, m.index).split('\n').length },
      });
    }
  }
  return out;
}

/** Arguments every call gets without the user writing them. */
const IMPLICIT = new Set(['model']);

/**
 * An argument the test's macro does not take is a warning: a typo such as `min_valu:` would
 * otherwise leave that check out without a word.
 */
export function warnUnknownArguments(
  sig: TestSignature,
  kwargs: Readonly<Record<string, unknown>>,
  label: string,
  locate: (key: string) => SourceLocation,
  warnings: Warning[],
): void {
  if (sig.anyKeyword) return;
  const names = sig.params.map((p) => p.name);
  for (const key of Object.keys(kwargs)) {
    // A test under a column gets column_name whether its macro uses it or not (as in dbt).
    if (names.includes(key) || key === 'column_name') continue;
    const w = unknownKeyWarning(key, `the arguments of test '${label}'`, names.filter((n) => !IMPLICIT.has(n)), locate(key));
    warnings.push({ ...w, message: `test '${label}' has no argument '${key}' (ignored)` });
  }
}

/** A parameter without a default that the test does not pass is an error. */
export function checkRequiredArguments(sig: TestSignature, kwargs: Readonly<Record<string, unknown>>, label: string, where: SourceLocation): void {
  for (const p of sig.params) {
    if (!p.required || IMPLICIT.has(p.name) || kwargs[p.name] !== undefined) continue;
    throw new KilnError('CONFIG_INVALID', `test '${label}' needs argument '${p.name}'`, {
      location: where,
      hint: p.name === 'column_name'
        ? `declare it under a column's data_tests, or pass column_name:`
        : `its macro is test ${sig.name}(${sig.params.map((q) => q.name + (q.required ? '' : '=…')).join(', ')}) at ${formatLocation(sig.location)}`,
    });
  }
}

/** The index of the `)` closing the parenthesis opened just before `from`; -1 if none. */
function closingParen(text: string, from: number): number {
  let depth = 1;
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth === 0) return c === ')' ? i : -1;
    }
  }
  return -1;
}

/** `model, column_name, values, quote=true` → names, and whether each has a default. */
function splitParams(text: string): TestSignature['params'] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') {
        cur += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts.flatMap((part) => {
    const m = /^\s*(\w+)\s*(=)?/.exec(part);
    return m ? [{ name: m[1]!, required: m[2] === undefined }] : [];
  });
}
