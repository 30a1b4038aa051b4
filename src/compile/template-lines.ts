/**
 * From a line of rendered SQL back to the line of the template it came from, without a source
 * map: a template line matches a rendered line when its literal text (outside `{{ }}`, `{% %}`
 * and `{# #}`) appears there in order. Of the matching lines, the one nearest the rendered line
 * number wins (templates mostly keep their line numbers: a `{{ ref() }}` renders in place).
 * Undefined when no line matches (the text came from a macro, or a loop made it up).
 */
export function templateLineOf(template: string, rendered: string, renderedLine: number): number | undefined {
  const target = rendered.split('\n')[renderedLine - 1];
  if (target === undefined) return undefined;
  const lines = template.split('\n');
  let best: number | undefined;
  lines.forEach((line, i) => {
    const parts = literalParts(line);
    if (parts.join('').length < 2 || !inOrder(target, parts)) return;
    if (best === undefined || Math.abs(i + 1 - renderedLine) < Math.abs(best - renderedLine)) best = i + 1;
  });
  return best;
}

/** The text of a template line outside Jinja tags, split where tags were; trimmed, blanks dropped. */
export function literalParts(line: string): string[] {
  return line
    .split(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/)
    .map((p) => p.trim())
    .filter((p) => p !== '' && !/[{}]{2}|\{%|%\}/.test(p));
}

function inOrder(text: string, parts: readonly string[]): boolean {
  let at = 0;
  for (const p of parts) {
    const i = text.indexOf(p, at);
    if (i < 0) return false;
    at = i + p.length;
  }
  return true;
}

/** 1-based line and column of a 0-based offset. */
export function lineAndColumn(text: string, offset: number): { readonly line: number; readonly column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
