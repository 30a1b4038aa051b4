/**
 * A macro file's text as nunjucks can load it. Every rewrite keeps the line count, so errors
 * still point at the file's own lines.
 */
export interface PreparedMacroSource {
  readonly code: string;
  /** `{% materialization name, adapter=... %}` blocks the file defines (loaded, not run by kiln). */
  readonly materializations: readonly string[];
}

const MATERIALIZATION = /{%-?\s*materialization\s+(\w+)[\s\S]*?{%-?\s*endmaterialization\s*-?%}/g;

export function prepareMacroSource(source: string): PreparedMacroSource {
  const materializations: string[] = [];
  const code = source
    // `{% test name(...) %}` defines generic test `name`; it is the macro `test_name`.
    .replace(/{%(-?)\s*test\s+(\w+)\s*\(/g, '{%$1 macro test_$2(')
    .replace(/{%(-?)\s*endtest\s*(-?)%}/g, '{%$1 endmacro $2%}')
    // dbt's custom materializations are Python-side Jinja kiln does not run: blanked, lines kept.
    .replace(MATERIALIZATION, (block, name: string) => {
      materializations.push(name);
      return block.replace(/[^\n]/g, '');
    });
  return { code, materializations };
}
