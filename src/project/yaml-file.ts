import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { KilnError } from '../errors.js';

/** A parsed YAML file that can still tell where a value came from. */
export interface YamlFile {
  readonly file: string;
  readonly data: unknown;
  /** 1-based line of the value at `path` (or the nearest parent that exists). */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
  /** 1-based line of the key that ends `path` (where a misspelled key is written), else lineOf(path). */
  keyLineOf(path: ReadonlyArray<string | number>): number | undefined;
}

export function parseYaml(text: string, displayPath: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lineCounter.linePos(first.pos[0]);
    const message = first.message.split('\n')[0] ?? first.message;
    throw new KilnError('YAML_INVALID', `invalid YAML: ${message}`, {
      location: { file: displayPath, line: pos.line, column: pos.col },
      hint: 'check indentation and that strings containing ":" or "{{" are quoted',
    });
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    // The yaml library refuses documents whose aliases expand past a limit ("billion laughs").
    throw new KilnError('YAML_INVALID', `invalid YAML: ${(err as Error).message}`, {
      location: { file: displayPath },
      hint: 'use fewer anchors and aliases (*name); a YAML file kiln reads holds plain configuration',
    });
  }
  return {
    file: displayPath,
    data,
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = doc.getIn(path.slice(0, n), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
      }
      return undefined;
    },
    keyLineOf(path) {
      const parent = doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path[path.length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
      return this.lineOf(path);
    },
  };
}
