// Types of check-imports.mjs, for the unit test that imports it from TypeScript.
export declare const LOWER_LAYERS: readonly string[];
export interface ImportEdge {
  readonly to: string;
  readonly line: number;
}
export declare function readImportGraph(srcDir: string): Map<string, ImportEdge[]>;
export declare function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][];
export declare function forbiddenImports(importGraph: ReadonlyMap<string, readonly ImportEdge[]>): Array<{ file: string; line: number; to: string }>;
