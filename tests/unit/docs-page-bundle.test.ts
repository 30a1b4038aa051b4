import { join, relative } from 'node:path';
import { Script } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import type { DocsData, DocsNode } from '../../src/docs/docs-data.js';
import { pageGraph } from '../../src/docs/page/page-graph.js';
import { pageSelector } from '../../src/docs/page/page-selection.js';

const REPO = join(import.meta.dirname, '..', '..');

// Records every file site-html.ts reads, passing the reads through.
const reads = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (actual) => {
  const fs = await actual<typeof import('node:fs')>();
  const readFileSync = ((file: string, ...rest: unknown[]) => {
    reads.push(String(file));
    return (fs.readFileSync as (...a: unknown[]) => unknown)(file, ...rest);
  }) as typeof fs.readFileSync;
  return { ...fs, default: { ...fs, readFileSync }, readFileSync };
});

/** A lineage node as docs-data.ts builds it, with only what selection reads filled in. */
function node(name: string, p: number[], c: number[], extra: Partial<DocsNode> = {}): DocsNode {
  return {
    id: `model.p.${name}`, name, label: name, type: 'model', path: `models/marts/${name}.sql`, materialized: 'table', tags: [], fqn: ['p', name],
    source_name: null, description: '', relation: null, columns: [], config: {}, raw_code: null, compiled_code: null, compiled_path: null,
    p, c, mv: [], views: [], status: null, time: null, rows: null, message: null, stats: null, tests: [], ...extra,
  };
}

describe('the docs page bundle', () => {
  it("filters the page's graph with kiln's own selector (tag:, path:, +name, name+, result:, --exclude)", () => {
    const nodes = [
      node('a', [], [1], { path: 'models/staging/a.sql', status: 'success' }),
      node('b', [0], [2], { tags: ['daily'], status: 'error' }),
      node('c', [1], []),
      node('d', [], []),
    ];
    const select = pageSelector(pageGraph({ nodes, layout: { mode: 'dagre', x: [], y: [], w: [], h: 30, width: 0, height: 0 } }));
    const pick = (s: string, exclude = '') => select(s, exclude).map((i) => nodes[i]!.name).sort();
    expect(pick('tag:daily')).toEqual(['b']);
    expect(pick('path:models/staging')).toEqual(['a']);
    expect(pick('+c')).toEqual(['a', 'b', 'c']);
    expect(pick('b+')).toEqual(['b', 'c']);
    expect(pick('1+c')).toEqual(['b', 'c']);
    expect(pick('result:error+')).toEqual(['b', 'c']);
    expect(pick('+c', 'a')).toEqual(['b', 'c']);
    expect(() => pick('nope:x')).toThrow(/unknown selector method 'nope'/);
  });

  it('is one classic script built by `npm run build`; generating a page reads only the bundles', async () => {
    const { renderSiteHtml } = await import('../../src/docs/site-html.js');
    const data = { project: 'p', nodes: [], layout: { mode: 'dagre', x: [], y: [], w: [], h: 30, width: 0, height: 0 } } as unknown as DocsData;
    const html = renderSiteHtml(data);
    expect(reads.map((f) => relative(REPO, f)).sort()).toEqual(['dist/docs/page.bundle.css', 'dist/docs/page.bundle.js']);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    // A classic script (no import/export), so it runs from file:// with nothing beside it.
    expect(() => new Script(scripts[0]!)).not.toThrow();
    expect(scripts[0]).not.toMatch(/selector\.js|node_modules|kilnSelector/);
  });
});
