import type { ParsedProject } from '../project/nodes.js';

export type MacroIndex = ReturnType<typeof macroIndex>;

/** Macro bodies by name, and the macros a piece of code calls directly or through other macros. */
export function macroIndex(parsed: ParsedProject, macroNames: ReadonlySet<string>) {
  const macros = new Map<string, { readonly body: string; readonly path: string; readonly package?: string }>();
  for (const file of parsed.macros) {
    const re = /{%-?\s*(macro|test)\s+(\w+)\s*\(([\s\S]*?){%-?\s*end(?:macro|test)\s*-?%}/g;
    for (const m of file.source.matchAll(re)) {
      const name = m[1] === 'test' ? `test_${m[2]}` : m[2]!;
      // The root project's definition wins over a package's, as in the template engine.
      if (file.package !== undefined && macros.has(name)) continue;
      macros.set(name, { body: m[3]!, path: file.path, ...(file.package !== undefined ? { package: file.package } : {}) });
    }
  }
  // One pass of one regex per piece of code, not one regex per macro (names are \w+: no escaping).
  // Two names cannot match at one position (`name\s*(`), so the scan finds every called name.
  const callRe = macros.size ? new RegExp(`\\b(${[...macros.keys()].join('|')})\\s*\\(`, 'g') : undefined;
  const called = (code: string): string[] => (callRe ? [...new Set(Array.from(code.matchAll(callRe), (m) => m[1]!))] : []);
  const calledByMacro = new Map<string, string[]>();
  const depsOf = (code: string): string[] => {
    const out = new Set<string>();
    const queue = called(code);
    while (queue.length) {
      const n = queue.pop()!;
      if (out.has(n)) continue;
      out.add(n);
      let next = calledByMacro.get(n);
      if (!next) calledByMacro.set(n, (next = called(macros.get(n)?.body ?? '')));
      queue.push(...next);
    }
    return [...out].sort();
  };
  return { macros, depsOf };
}
