import type { Diagnostics } from '../diagnostics.js';
import { KilnError } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import type { RenderedModel } from './render-models.js';
import { escapeRegExp } from '../escape-regexp.js';

/** What a ref name can point to, and why a name that points nowhere does. */
export interface RefNames {
  /** Enabled models and seeds. */
  has(name: string): boolean;
  readonly all: () => Iterable<string>;
  readonly disabled: ReadonlySet<string>;
  /** Models that failed to render: already reported, so refs to them are not errors of their own. */
  readonly failed: ReadonlySet<string>;
}

/** Reports every `ref()` of `models` that names no enabled model or seed. */
export function checkRefs(models: Iterable<RenderedModel>, names: RefNames, diagnostics: Diagnostics): void {
  for (const { node, output } of models) {
    for (const ref of new Set(output.refs)) {
      if (ref === node.name) {
        const line = lineOfCall(node.rawCode, 'ref', ref);
        diagnostics.error(
          new KilnError('CYCLE', `model '${ref}' refs itself`, {
            location: { file: node.originalFilePath, ...(line ? { line } : {}) },
            hint: '{{ this }} is the model\'s own relation (e.g. in an incremental model); a ref to itself is a cycle',
          }),
        );
        continue;
      }
      if (names.has(ref) || names.failed.has(ref)) continue;
      const line = lineOfCall(node.rawCode, 'ref', ref);
      const disabled = names.disabled.has(ref);
      diagnostics.error(
        new KilnError('UNKNOWN_REF', disabled ? `ref('${ref}') points to a disabled model` : `unknown ref '${ref}'`, {
          location: { file: node.originalFilePath, ...(line ? { line } : {}) },
          // Never the model itself: a ref to it would be a cycle.
          hint: disabled ? `enable '${ref}' or remove the ref` : didYouMean(ref, [...names.all()].filter((n) => n !== node.name)) ?? 'no model or seed has that name',
        }),
      );
    }
  }
}

/** 1-based line of the first `fn('name'` call in a template, for error locations. */
export function lineOfCall(code: string, fn: string, name: string): number | undefined {
  const re = new RegExp(`${fn}\\s*\\(\\s*(?:['"][^'"]*['"]\\s*,\\s*)?['"]${escapeRegExp(name)}['"]`);
  const m = re.exec(code);
  if (!m) return undefined;
  return code.slice(0, m.index).split('\n').length;
}
