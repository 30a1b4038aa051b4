import { KilnError } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import { assertOneStatement } from './check-statements.js';
import type { CompiledProject } from './compile-project.js';
import type { EphemeralStyle } from './ephemeral-style.js';
import { createTemplateEngine, type CompileOptions } from './render-models.js';
import { resolveSql } from './sql-resolver.js';

const WHERE = { file: '--inline' };

/**
 * `kiln show --inline "…"`: a query written like a model (ref, source, var, macros), rendered with
 * the project's templates and resolved against its compiled refs, ephemeral models included.
 */
export function compileInlineSql(compiled: CompiledProject, text: string, opts: CompileOptions & { readonly style: EphemeralStyle }): string {
  const engine = createTemplateEngine(compiled.project, compiled.parsed, opts);
  const out = engine.render({ name: '__inline__', file: WHERE.file, code: text });
  const { refs } = compiled.execution;
  for (const ref of new Set(out.refs)) {
    if (refs.relations[ref] !== undefined || refs.ephemerals[ref] !== undefined) continue;
    throw new KilnError('UNKNOWN_REF', `unknown ref '${ref}' in --inline`, {
      location: WHERE,
      hint: didYouMean(ref, [...Object.keys(refs.relations), ...Object.keys(refs.ephemerals)]) ?? 'no model or seed has that name',
    });
  }
  const sql = resolveSql(refs, out, opts.style);
  assertOneStatement(sql, WHERE, 'the --inline query');
  return sql;
}
