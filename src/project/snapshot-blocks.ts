import { KilnError } from '../errors.js';

/** One `{% snapshot name %}…{% endsnapshot %}` block of a snapshot file. */
export interface SnapshotBlock {
  readonly name: string;
  /** 1-based line of the `{% snapshot %}` tag. */
  readonly line: number;
  /**
   * The block's body, preceded by as many newlines as the file has lines before it, so a line
   * number in the body (a template or SQL error) is the line in the file.
   */
  readonly code: string;
}

const OPEN = /{%-?\s*snapshot\s+([A-Za-z_][A-Za-z0-9_]*)\s*-?%}/g;
const CLOSE = /{%-?\s*endsnapshot\s*-?%}/g;

/** The snapshot blocks of a file, in order; a block without its end tag is an error at its line. */
export function snapshotBlocks(text: string, file: string): SnapshotBlock[] {
  const blocks: SnapshotBlock[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  OPEN.lastIndex = 0;
  for (let open = OPEN.exec(text); open; open = OPEN.exec(text)) {
    const bodyStart = open.index + open[0].length;
    CLOSE.lastIndex = bodyStart;
    const close = CLOSE.exec(text);
    const line = lineAt(open.index);
    if (!close) {
      throw new KilnError('CONFIG_INVALID', `snapshot '${open[1]}' has no {% endsnapshot %}`, {
        location: { file, line },
        hint: 'end the block with {% endsnapshot %}',
      });
    }
    const nested = text.slice(bodyStart, close.index).search(/{%-?\s*snapshot\s/);
    if (nested >= 0) {
      throw new KilnError('CONFIG_INVALID', `snapshot '${open[1]}' has no {% endsnapshot %} before the next snapshot`, {
        location: { file, line },
        hint: 'end each block with {% endsnapshot %}',
      });
    }
    blocks.push({ name: open[1]!, line, code: '\n'.repeat(lineAt(bodyStart) - 1) + text.slice(bodyStart, close.index) });
    OPEN.lastIndex = close.index + close[0].length;
  }
  return blocks;
}

/** The SQL of a snapshot defined in YAML (dbt 1.9): everything of its `relation`. */
export function relationSnapshotCode(relation: string): string {
  return `select * from {{ ${relation} }}`;
}

/** `relation:` takes `ref('x')` or `source('a', 'b')`, as in dbt. */
export const SNAPSHOT_RELATION = /^\s*(ref|source)\(\s*(['"])[^'"]+\2(\s*,\s*(['"])[^'"]+\4)?\s*\)\s*$/;
