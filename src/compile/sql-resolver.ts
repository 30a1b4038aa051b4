import { quoteIdentifier } from '../adapters/quoting.js';
import { ephemeralCteName as cteName, inlineSubquery } from '../adapters/ephemeral-sql.js';
import { resolvePlaceholders, resolveSourcePlaceholders, sourceKey } from '../template/placeholders.js';
import { injectCtes } from '../adapters/ephemeral-sql.js';
import type { EphemeralStyle } from './ephemeral-style.js';

/** A template's output before its refs are resolved: SQL with ref placeholders, and the names it refs. */
export interface RenderedSql {
  readonly sql: string;
  readonly refs: readonly string[];
}

/**
 * What a ref name resolves to, as plain data: a relation for models and seeds that are built,
 * the rendered SQL for ephemeral models (inlined into whatever reads them). Built once per
 * compile, it is all execution needs to turn any rendered SQL into SQL for its target, with no
 * template engine.
 */
export interface RefTable {
  /** Ref name → `` `database`.`alias` ``. */
  readonly relations: Readonly<Record<string, string>>;
  /** Ref name → the ephemeral model's rendered SQL. */
  readonly ephemerals: Readonly<Record<string, RenderedSql>>;
  /**
   * Source tables that declare `event_time`, by sourceKey → relation. source() renders these as
   * placeholders, so a microbatch batch can read them filtered to its window as it reads refs.
   */
  readonly sources?: Readonly<Record<string, string>>;
}


/**
 * Rendered SQL → SQL to run. Ephemeral models become CTEs (the manifest's form) or, for servers
 * without CTEs, parenthesised subqueries in place of each reference. Pure: the same table and
 * SQL give the same text, so compile and execution agree byte for byte.
 */
export function resolveSql(table: RefTable, rendered: RenderedSql, style: EphemeralStyle = 'cte'): string {
  if (style === 'subquery') return resolve(table, rendered.sql, (name) => inlineRef(table, name));
  const body = resolve(table, rendered.sql, (name) => refRelation(table, name));
  const chain = ephemeralChain(table, rendered.refs, new Set());
  if (chain.length === 0) return body;
  return injectCtes(
    body,
    chain.map((name) => ({ name: cteName(name), sql: resolve(table, table.ephemerals[name]!.sql, (n) => refRelation(table, n)).trim() })),
  );
}

/** Ref placeholders by `ref`, source placeholders by the table's sources. */
function resolve(table: RefTable, sql: string, ref: (name: string) => string): string {
  const refsDone = resolvePlaceholders(sql, ref);
  const sources = table.sources;
  if (!sources) return refsDone;
  // Only tables that declare event_time are placeholders; a missing one stays visible rather than vanishing.
  return resolveSourcePlaceholders(refsDone, (s, t) => sources[sourceKey(s, t)] ?? `${quoteIdentifier(s)}.${quoteIdentifier(t)}`);
}

function refRelation(table: RefTable, name: string): string {
  if (table.ephemerals[name] !== undefined) return cteName(name);
  // Refs are checked before anything resolves them; an unknown name stays visible rather than vanishing.
  return table.relations[name] ?? quoteIdentifier(name);
}

function inlineRef(table: RefTable, name: string): string {
  const ephemeral = table.ephemerals[name];
  if (ephemeral === undefined) return refRelation(table, name);
  return inlineSubquery(resolve(table, ephemeral.sql, (n) => inlineRef(table, n)));
}

/** Ephemeral models reachable through ephemeral-only chains, dependencies first. */
function ephemeralChain(table: RefTable, refs: readonly string[], seen: Set<string>): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const ephemeral = table.ephemerals[ref];
    if (ephemeral === undefined || seen.has(ref)) continue;
    seen.add(ref);
    out.push(...ephemeralChain(table, ephemeral.refs, seen), ref);
  }
  return out;
}
