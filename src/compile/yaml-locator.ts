import type { YamlFile } from '../project/yaml-file.js';

type Path = Array<string | number>;

/**
 * Finds the line of a test declaration in a properties file, for `file:line` errors. The parsed
 * nodes keep test entries as plain values; the files as parsed at read time know their lines.
 */
export class YamlLocator {
  constructor(private readonly files: ReadonlyMap<string, YamlFile>) {}

  /**
   * Line of `path` under the entry named `name` of the top-level list `list` (models, seeds,
   * unit_tests); with `atKey`, the line of the key ending `path` rather than of its value.
   */
  lineInEntry(file: string, list: string, name: string, path: Path = [], atKey = false): number | undefined {
    const yaml = this.read(file);
    const i = indexByName(yaml?.data, [list], name);
    if (i === undefined) return undefined;
    return atKey ? yaml!.keyLineOf([list, i, ...path]) : yaml!.lineOf([list, i, ...path]);
  }

  /** Like lineInEntry, for lists whose entries are told apart by more than a name (unit tests). */
  lineInEntryMatching(file: string, list: string, match: (entry: Record<string, unknown>) => boolean, path: Path = []): number | undefined {
    const yaml = this.read(file);
    const entries = (yaml?.data as Record<string, unknown> | undefined)?.[list];
    if (!Array.isArray(entries)) return undefined;
    const i = entries.findIndex((e) => e && typeof e === 'object' && match(e as Record<string, unknown>));
    return i < 0 ? undefined : yaml!.lineOf([list, i, ...path]);
  }

  /** Line of `path` under the table `table` of source `source` (of its key, with `atKey`). */
  lineInSourceTable(file: string, source: string, table: string, path: Path = [], atKey = false): number | undefined {
    const yaml = this.read(file);
    const s = indexByName(yaml?.data, ['sources'], source);
    if (s === undefined) return undefined;
    const t = indexByName(yaml!.data, ['sources', s, 'tables'], table);
    if (t === undefined) return undefined;
    const full = ['sources', s, 'tables', t, ...path];
    return atKey ? yaml!.keyLineOf(full) : yaml!.lineOf(full);
  }

  /** The path of a node's test entry: model-level `data_tests[i]`, or `columns[c].data_tests[i]`. */
  static testPath(data: unknown, column: string | undefined, index: number): Path {
    if (column === undefined) return [testsKey(data), index];
    const columns = (data as { columns?: unknown } | undefined)?.columns;
    const c = Array.isArray(columns) ? columns.findIndex((x) => (x as { name?: unknown })?.name === column) : -1;
    if (c < 0) return ['columns'];
    return ['columns', c, testsKey((columns as unknown[])[c]), index];
  }

  entry(file: string, list: string, name: string): unknown {
    const yaml = this.read(file);
    const i = indexByName(yaml?.data, [list], name);
    return i === undefined ? undefined : (yaml!.data as Record<string, unknown[]>)[list]![i];
  }

  sourceTable(file: string, source: string, table: string): unknown {
    const yaml = this.read(file);
    const s = indexByName(yaml?.data, ['sources'], source);
    if (s === undefined) return undefined;
    const tables = ((yaml!.data as { sources: Array<{ tables?: unknown[] }> }).sources[s]!.tables ?? []) as unknown[];
    return tables.find((t) => (t as { name?: unknown })?.name === table);
  }

  private read(file: string): YamlFile | null {
    return this.files.get(file) ?? null;
  }
}

function testsKey(data: unknown): string {
  return data && typeof data === 'object' && 'data_tests' in data ? 'data_tests' : 'tests';
}

function indexByName(data: unknown, path: Path, name: string): number | undefined {
  let cur: unknown = data;
  for (const key of path) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[key] : undefined;
  if (!Array.isArray(cur)) return undefined;
  const i = cur.findIndex((x) => x && typeof x === 'object' && (x as { name?: unknown }).name === name);
  return i < 0 ? undefined : i;
}
