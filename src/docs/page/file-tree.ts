import type { DocsData, DocsNode } from '../docs-data.js';
import { h } from './dom.js';

/**
 * The project as dbt docs shows it on the left: nodes by folder (sources by source), and a search
 * box that narrows the tree to the names (or paths) containing what is typed.
 */

interface Folder {
  readonly name: string;
  readonly folders: Map<string, Folder>;
  readonly nodes: DocsNode[];
}

const folder = (name: string): Folder => ({ name, folders: new Map(), nodes: [] });

/** Folders from each node's path (`models/marts/x.sql` → models › marts); sources under `sources › <source>`. */
export function projectTree(nodes: readonly DocsNode[]): Folder {
  const root = folder('');
  for (const n of nodes) {
    const parts = n.type === 'source' ? ['sources', n.source_name ?? ''] : n.path.split('/').slice(0, -1);
    let at = root;
    for (const p of parts) {
      let next = at.folders.get(p);
      if (!next) at.folders.set(p, (next = folder(p)));
      at = next;
    }
    at.nodes.push(n);
  }
  return root;
}

function matches(n: DocsNode, query: string): boolean {
  return query === '' || n.name.toLowerCase().includes(query) || n.path.toLowerCase().includes(query);
}

function drawFolder(f: Folder, query: string): HTMLElement | null {
  const children: HTMLElement[] = [];
  for (const sub of [...f.folders.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const drawn = drawFolder(sub, query);
    if (drawn) children.push(drawn);
  }
  for (const n of [...f.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!matches(n, query)) continue;
    children.push(
      h('li', { class: `leaf ${n.type}`, 'data-id': n.id }, [h('a', { href: `#/node/${encodeURIComponent(n.id)}`, title: n.path, text: n.name })]),
    );
  }
  if (children.length === 0) return null;
  if (f.name === '') return h('ul', { class: 'tree-root' }, children);
  // A search opens every folder on the way to a match; otherwise folders start open too (small projects).
  return h('li', { class: 'folder' }, [h('details', { open: '' }, [h('summary', { text: f.name }), h('ul', {}, children)])]);
}

/** The sidebar: a search box over the tree. */
export function fileTree(data: DocsData): HTMLElement {
  const tree = projectTree(data.nodes);
  const list = h('div', { class: 'tree-list' });
  const draw = (query: string) => {
    list.textContent = '';
    list.append(drawFolder(tree, query.trim().toLowerCase()) ?? h('p', { class: 'muted', text: 'Nothing matches.' }));
  };
  const search = h('input', {
    type: 'search',
    id: 'tree-search',
    placeholder: 'Search models, seeds, sources…',
    'aria-label': 'Search the project',
    oninput: (e) => draw((e.target as HTMLInputElement).value),
  });
  draw('');
  return h('aside', { class: 'tree', id: 'file-tree' }, [search, list]);
}
