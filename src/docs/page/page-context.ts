import type { DocsData } from '../docs-data.js';
import type { PageGraph } from './page-graph.js';
import type { SelectIndices } from './page-selection.js';

/** What the lineage page keeps across navigation: the last selection, focus and picked node. */
export interface LineageState {
  select: string;
  exclude: string;
  /** A node whose neighbourhood is shown instead of the selection. */
  focus: number | null;
  depth: number;
  picked: number | null;
}

/** Passed to every page: the data, its graph, the element to draw into. Nothing lives in module globals. */
export interface PageContext {
  readonly data: DocsData;
  readonly graph: PageGraph;
  readonly selectIndices: SelectIndices;
  readonly lineage: LineageState;
  readonly main: HTMLElement;
  /** Runs `cleanup` when the user leaves the page (charts release their canvases). */
  onLeave(cleanup: () => void): void;
}
