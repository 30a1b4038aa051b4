import { KilnError, type Warning } from '../errors.js';
import type { Dag } from './dag.js';

/** What selection needs to know about a node (manifest nodes satisfy it). */
export interface SelectableNode {
  readonly uniqueId: string;
  readonly name: string;
  readonly resourceType: string;
  readonly originalFilePath: string;
  readonly fqn: readonly string[];
  readonly tags: readonly string[];
  readonly sourceName?: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly checksum?: string;
  /** For tests: the nodes they test (a test is selected with the model it is attached to). */
  readonly attachedTo?: readonly string[];
  /** For tests: `generic` (declared in YAML), `singular` (a .sql file) or `unit`. */
  readonly testType?: 'generic' | 'singular' | 'unit';
}

/** The graph walks selection needs: a Dag, or the docs page's own index-based graph. */
export type SelectionGraph = Pick<Dag, 'has' | 'ancestors' | 'descendants'>;

/** Previous artifacts for `state:` and `result:` selectors. */
export interface SelectionState {
  /** Nodes of the manifest in `--state DIR`, by unique id. */
  readonly previous?: ReadonlyMap<string, { readonly checksum?: string; readonly config?: unknown; readonly macros?: readonly string[] }>;
  /** Changed macro names against that manifest. */
  readonly modifiedMacros?: ReadonlySet<string>;
  readonly macroDependencies?: ReadonlyMap<string, readonly string[]>;
  /** unique id → status from the last run_results.json. */
  readonly results?: ReadonlyMap<string, string>;
}

interface Atom {
  readonly text: string;
  readonly method: string;
  readonly value: string;
  readonly parents: number; // 0 none, Infinity for `+`
  readonly children: number;
  readonly at: boolean; // `@x`: x, its descendants and their ancestors
}

const ATOM = /^(?:(\d*)\+)?([^+]+?)(?:\+(\d*))?$/;
const METHODS = ['name', 'tag', 'path', 'source', 'resource_type', 'state', 'result', 'fqn', 'test_type', 'file'];

export function parseAtom(text: string): Atom {
  const at = text.startsWith('@');
  const body = at ? text.slice(1) : text;
  const m = ATOM.exec(body);
  if (!m) throw invalid(text, 'cannot parse this selector');
  const [, up, core, down] = m;
  const colon = core!.indexOf(':');
  const method = colon > 0 ? core!.slice(0, colon) : 'name';
  const value = colon > 0 ? core!.slice(colon + 1) : core!;
  if (!method.startsWith('config.') && !METHODS.includes(method)) {
    throw invalid(text, `unknown selector method '${method}'`, `methods: ${METHODS.join(', ')}, config.<key>`);
  }
  if (!value) throw invalid(text, 'selector has no value');
  const depth = (digits: string | undefined, present: boolean) => (!present ? 0 : digits ? Number(digits) : Infinity);
  return {
    text,
    method,
    value,
    parents: depth(up, /^\d*\+/.test(body)),
    children: depth(down, /\+\d*$/.test(body)),
    at,
  };
}

function invalid(text: string, why: string, hint?: string): KilnError {
  return new KilnError('SELECTOR_INVALID', `invalid selector '${text}': ${why}`, {
    hint: hint ?? `examples: my_model, +my_model, my_model+, 2+my_model, tag:nightly, path:models/staging, source:app`,
  });
}

/** fnmatch-style: `*` and `?` wildcards. */
function matches(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(value);
}

function matchAtom(atom: Atom, node: SelectableNode, state: SelectionState): boolean {
  const v = atom.value;
  switch (atom.method) {
    case 'name':
      if (node.resourceType === 'source') return matches(v, `${node.sourceName}.${node.name}`);
      return matches(v, node.name);
    case 'tag':
      return node.tags.some((t) => matches(v, t));
    case 'path':
    case 'file': {
      const p = v.replace(/\/+$/, '');
      return node.originalFilePath === p || node.originalFilePath.startsWith(`${p}/`) || matches(p, node.originalFilePath);
    }
    case 'source': {
      if (node.resourceType !== 'source') return false;
      const [s, t] = v.split('.');
      return matches(s!, node.sourceName ?? '') && (t === undefined || matches(t, node.name));
    }
    case 'resource_type':
      return node.resourceType === v;
    case 'fqn':
      return matches(v, node.fqn.join('.')) || node.fqn.includes(v);
    case 'test_type':
      return node.testType === v || (v === 'data' && (node.testType === 'generic' || node.testType === 'singular'));
    case 'result': {
      const status = state.results?.get(node.uniqueId);
      return status !== undefined && (status === v || (v === 'fail' && status === 'fail'));
    }
    case 'state':
      return matchState(v, node, state);
    default: {
      const key = atom.method.slice('config.'.length);
      const cv = node.config[key];
      return Array.isArray(cv) ? cv.map(String).includes(v) : String(cv) === v;
    }
  }
}

function matchState(value: string, node: SelectableNode, state: SelectionState): boolean {
  if (!state.previous) {
    throw new KilnError('STATE_INVALID', `selector 'state:${value}' needs --state DIR (a folder holding an earlier manifest.json)`, {
      hint: 'copy target/manifest.json from a production run into a folder and pass --state that_folder',
    });
  }
  const before = state.previous.get(node.uniqueId);
  if (value === 'new') return before === undefined;
  if (value === 'modified' || value.startsWith('modified.')) {
    if (before === undefined) return true;
    const part = value.split('.')[1];
    const body = before.checksum !== node.checksum;
    const config = JSON.stringify(before.config ?? {}) !== JSON.stringify(node.config);
    const macros = (state.macroDependencies?.get(node.uniqueId) ?? []).some((m) => state.modifiedMacros?.has(m));
    if (part === 'body') return body;
    if (part === 'configs') return config;
    if (part === 'macros') return macros;
    return body || config || macros;
  }
  throw invalid(`state:${value}`, `unknown state '${value}'`, 'use state:modified or state:new');
}

/**
 * Evaluates dbt's selection syntax: space-separated terms are a union, comma-joined atoms an
 * intersection; `--exclude` is subtracted. Returns the selected unique ids.
 */
export function selectNodes(
  nodes: readonly SelectableNode[],
  dag: SelectionGraph,
  select: readonly string[] | undefined,
  exclude: readonly string[] | undefined,
  state: SelectionState = {},
  warnings: Warning[] = [],
): Set<string> {
  const evalTerms = (terms: readonly string[]): Set<string> => {
    const out = new Set<string>();
    for (const term of terms.flatMap((t) => t.split(/\s+/)).filter(Boolean)) {
      let acc: Set<string> | undefined;
      for (const atomText of term.split(',').filter(Boolean)) {
        const hit = evalAtom(parseAtom(atomText));
        acc = acc === undefined ? hit : new Set([...acc].filter((id) => hit.has(id)));
      }
      for (const id of acc ?? []) out.add(id);
    }
    return out;
  };
  const evalAtom = (atom: Atom): Set<string> => {
    const base = nodes.filter((n) => matchAtom(atom, n, state)).map((n) => n.uniqueId);
    const out = new Set(base);
    for (const id of base) {
      if (!dag.has(id)) continue;
      if (atom.parents) for (const a of dag.ancestors(id, atom.parents)) out.add(a);
      if (atom.children || atom.at) for (const d of dag.descendants(id, atom.at ? Infinity : atom.children)) out.add(d);
    }
    if (atom.at) for (const id of [...out]) if (dag.has(id)) for (const a of dag.ancestors(id)) out.add(a);
    // Tests follow the nodes they are attached to (dbt's eager indirect selection).
    for (const n of nodes) if (n.attachedTo?.some((t) => out.has(t))) out.add(n.uniqueId);
    return out;
  };

  let selected = select && select.length ? evalTerms(select) : new Set(nodes.map((n) => n.uniqueId));
  if (select && select.length && selected.size === 0) {
    warnings.push({ message: `--select ${select.join(' ')} matched no nodes`, hint: 'check the name with `kiln ls`' });
  }
  if (exclude && exclude.length) {
    const excluded = evalTerms(exclude);
    selected = new Set([...selected].filter((id) => !excluded.has(id)));
  }
  return selected;
}
