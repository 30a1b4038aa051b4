import type { Diagnostics } from '../diagnostics.js';
import { formatLocation, KilnError, type SourceLocation } from '../errors.js';
import { didYouMean } from './closest.js';
import type { ProjectFiles } from './project-files.js';

/** One `{% docs name %}…{% enddocs %}` block. */
export interface DocsBlock {
  readonly name: string;
  readonly text: string;
  readonly location: SourceLocation;
}

const BLOCK = /{%-?\s*docs\s+(\w+)\s*-?%}([\s\S]*?){%-?\s*enddocs\s*-?%}/g;
const DOC_CALL = /{{-?\s*doc\(\s*(['"])(\w+)\1\s*\)\s*-?}}/g;

/** Every docs block in the `.md` files under `dirs`, by name; a name defined twice is an error. */
export function readDocsBlocks(files: ProjectFiles, dirs: readonly string[], diagnostics: Diagnostics): Map<string, DocsBlock> {
  const blocks = new Map<string, DocsBlock>();
  for (const { path } of files.list(dirs, ['.md'])) {
    const text = files.read(path);
    for (const m of text.matchAll(BLOCK)) {
      const name = m[1]!;
      const location = { file: path, line: text.slice(0, m.index).split('\n').length };
      const prior = blocks.get(name);
      if (prior) {
        diagnostics.error(new KilnError('DUPLICATE_NODE', `docs block '${name}' is defined twice (also at ${formatLocation(prior.location)})`, { location, hint: 'rename one of them' }));
        continue;
      }
      blocks.set(name, { name, text: m[2]!.trim(), location });
    }
  }
  return blocks;
}

/**
 * A description with each `{{ doc('name') }}` replaced by the block's text, as dbt renders it;
 * an unknown name is an error at `where` (the description's own line).
 */
export function renderDocCalls(description: string, blocks: ReadonlyMap<string, DocsBlock>, where: SourceLocation): string {
  if (!description.includes('doc(')) return description;
  return description.replace(DOC_CALL, (_call, _quote, name: string) => {
    const block = blocks.get(name);
    if (!block) {
      throw new KilnError('CONFIG_INVALID', `unknown doc '${name}'`, {
        location: where,
        hint: didYouMean(name, blocks.keys()) ?? `define it in a .md file under the model paths: {% docs ${name} %}…{% enddocs %}`,
      });
    }
    return block.text;
  });
}
