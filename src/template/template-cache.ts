import { createHash } from 'node:crypto';

/**
 * Where nunjucks' generated JavaScript for a template is kept between runs, keyed by
 * `templateCacheKey`. Compiling a template (lexer, parser, code generator) costs several times
 * more than evaluating its generated code, so a recompile of unchanged files skips it.
 * The engine only asks and tells; whoever owns the storage decides where it lives.
 */
export interface CompiledTemplateCache {
  get(key: string): string | undefined;
  set(key: string, source: string): void;
}

/** The generated code embeds the template's path (error messages), so both are in the key. */
export function templateCacheKey(path: string, code: string): string {
  return createHash('sha256').update(path).update('\0').update(code).digest('hex');
}
