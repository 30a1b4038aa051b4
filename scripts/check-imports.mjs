#!/usr/bin/env node
// Keeps src/ layered: no import cycle (type-only imports count, since a cycle of types still ties
// the modules' meaning together), and nothing below src/api imports from it (the stages feed the
// commands, never the reverse). Run by `npm test` (pretest); exits 1 listing every violation.
// Usage: node scripts/check-imports.mjs [src-dir]
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
// TypeScript's own pre-processor finds every import form (static, type-only, export-from, import())
// without regexes that comments or template strings could fool; it is already a devDependency.
import ts from 'typescript';

/** Folders (and top-level files) of src/ below the programmatic API: they must not import from src/api. */
export const LOWER_LAYERS = ['stage', 'testing', 'materialize', 'compile', 'graph', 'execute', 'plan', 'adapters', 'project', 'template', 'report', 'docs', 'watch', 'errors.ts'];

/** Every `.ts` file under `dir`, as paths relative to it with `/` separators. */
function sourceFiles(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...sourceFiles(dir, path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/**
 * The module graph of `srcDir`: file → its relative imports (resolved to `.ts` files under
 * `srcDir`), each with the line it is on. Package imports are left out: they cannot close a cycle.
 */
export function readImportGraph(srcDir) {
  const graph = new Map();
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(join(srcDir, file), 'utf8');
    const info = ts.preProcessFile(text, true, true);
    const edges = [];
    for (const ref of info.importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const target = relative(srcDir, resolve(srcDir, dirname(file), ref.fileName.replace(/\.js$/, '.ts'))).split(sep).join('/');
      const line = text.slice(0, ref.pos).split('\n').length;
      edges.push({ to: target, line });
    }
    graph.set(file, edges);
  }
  return graph;
}

/** Strongly connected components (Tarjan), iteratively so deep graphs cannot overflow the stack. */
function components(nodes, next) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const out = [];
  let counter = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work = [{ node: root, children: next(root), i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length) {
      const frame = work[work.length - 1];
      if (frame.i < frame.children.length) {
        const child = frame.children[frame.i++];
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, children: next(child), i: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(child)));
        }
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        out.push(component);
      }
    }
  }
  return out;
}

/** Shortest path from `from` to `to` through `allowed` nodes only (breadth first), or null. */
function shortestPath(from, to, next, allowed) {
  const previous = new Map([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const node = queue.shift();
    if (node === to) {
      const path = [];
      for (let n = to; n !== null; n = previous.get(n)) path.unshift(n);
      return path;
    }
    for (const child of next(node)) {
      if (allowed.has(child) && !previous.has(child)) {
        previous.set(child, node);
        queue.push(child);
      }
    }
  }
  return null;
}

/**
 * The cycles of a graph (node → nodes it imports), each as a path that starts and ends on the same
 * node. Listing every elementary cycle can explode, so this lists, per tangled group of modules,
 * the shortest cycle through each import inside it that no listed cycle covers yet: every import
 * that takes part in a cycle shows up in at least one, and breaking those imports breaks them all.
 */
export function findCycles(graph) {
  const next = (node) => [...new Set(graph.get(node) ?? [])].filter((n) => graph.has(n));
  const cycles = [];
  for (const component of components([...graph.keys()].sort(), next)) {
    const members = new Set(component);
    const covered = new Set();
    for (const from of [...component].sort()) {
      for (const to of next(from)) {
        if (!members.has(to) || covered.has(`${from}\0${to}`)) continue;
        const back = shortestPath(to, from, next, members);
        if (!back) continue;
        const cycle = [from, ...back];
        for (let i = 0; i + 1 < cycle.length; i++) covered.add(`${cycle[i]}\0${cycle[i + 1]}`);
        cycles.push(cycle);
      }
    }
  }
  return cycles;
}

/** Imports from a lower layer into src/api, as `file:line → target`. */
export function forbiddenImports(importGraph) {
  const out = [];
  for (const [file, edges] of importGraph) {
    if (!LOWER_LAYERS.includes(file.split('/')[0])) continue;
    for (const edge of edges) if (edge.to.startsWith('api/')) out.push({ file, line: edge.line, to: edge.to });
  }
  return out;
}

function main() {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const srcDir = resolve(process.argv[2] ?? join(root, 'src'));
  const importGraph = readImportGraph(srcDir);
  const cycles = findCycles(new Map([...importGraph].map(([file, edges]) => [file, edges.map((e) => e.to)])));
  const forbidden = forbiddenImports(importGraph);
  const at = relative(process.cwd(), srcDir) || '.';
  for (const cycle of cycles) console.error(`import cycle: ${cycle.join(' → ')}`);
  for (const f of forbidden) console.error(`${at}/${f.file}:${f.line}: imports ${f.to}; nothing below src/api may import from it`);
  if (cycles.length || forbidden.length) {
    console.error(`check-imports: ${cycles.length} cycle(s), ${forbidden.length} lower-layer import(s) of src/api`);
    process.exit(1);
  }
  console.log(`check-imports: ${importGraph.size} modules, no cycles, no lower-layer imports of src/api`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
