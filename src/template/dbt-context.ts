import { createHash } from 'node:crypto';
import { dropRelationNamed } from '../adapters/ddl.js';
import { qualifiedName, quoteIdentifier } from '../adapters/quoting.js';
import { KilnError } from '../errors.js';
import { ColumnInfo, statementResult, type QueryRows, type RelationColumn, type WarehouseAnswers, type WarehouseQuestion } from './introspection.js';
import { currentKwargs, currentVarargs, KeywordSplat, MacroReturn, Spread } from './jinja-runtime.js';
import { fromjson, fromyaml, namespace, pythonModules, setAttribute, splitKeywords, tojson, toyaml, zip } from './python-modules.js';

/**
 * The dbt names every template sees besides kiln's own (ref, source, config, var, …): `adapter`,
 * `api`, `dbt`, `exceptions`, `modules`, `execute`, `run_query`, `statement`/`load_result`,
 * `return`, `kwargs`/`varargs`, `namespace`, `zip`, `tojson`, `log`/`print`. Anything dbt has
 * that kiln does not is an error naming it ("kiln does not provide adapter.x").
 */

/** A dbt Relation for ClickHouse: the database is dbt's schema; it renders as `schema`.`identifier`. */
export class Relation {
  constructor(
    readonly schema: string,
    readonly identifier: string,
    readonly type: string | null = null,
  ) {}
  get database(): string {
    return this.schema;
  }
  get name(): string {
    return this.identifier;
  }
  get table(): string {
    return this.identifier;
  }
  /** What dbt code checks to tell a relation from a string (dbt_utils' _is_relation). */
  get metadata(): { type: string } {
    return { type: 'ClickHouseRelation' };
  }
  get is_table(): boolean {
    return this.type === 'table';
  }
  get is_view(): boolean {
    return this.type === 'view';
  }
  get is_cte(): boolean {
    return this.type === 'cte';
  }
  render(): string {
    return this.schema ? `${quoteIdentifier(this.schema)}.${quoteIdentifier(this.identifier)}` : quoteIdentifier(this.identifier);
  }
  include(...args: unknown[]): Relation {
    const { kw } = splitKeywords(args);
    return kw.schema === false ? new Relation('', this.identifier, this.type) : this;
  }
  incorporate(...args: unknown[]): Relation {
    const { kw } = splitKeywords(args);
    const path = (kw.path ?? {}) as Record<string, unknown>;
    return new Relation(String(path.schema ?? this.schema), String(path.identifier ?? this.identifier), (kw.type as string | undefined) ?? this.type);
  }
  quote(): Relation {
    return this;
  }
  toString(): string {
    return this.render();
  }
}

/** What a relation-like argument names: a Relation, a ref stand-in, or a quoted name. */
export interface RelationName {
  readonly database: string;
  readonly table: string;
}

export interface DbtContextHost {
  readonly projectName: string;
  readonly targetDatabase: string;
  /** The target's cluster, if any: statements a render asks to run go ON CLUSTER it. */
  readonly targetCluster?: string;
  /** Throws `err` into the render, keeping it as the render's cause. */
  fail(err: unknown): never;
  warn(message: string): void;
  log(message: string): void;
  now(): Date;
  /** This render's warehouse; undefined while compiling (`execute` is false). */
  answers(): WarehouseAnswers | undefined;
  /** Marks the render as one that asks the warehouse: it is rendered again when it executes. */
  markIntrospective(): void;
  /** A macro of a package (the root project when undefined), or undefined. */
  macro(pkg: string | undefined, name: string): unknown;
  /** A macro by its global name (a package's where the root project has none of that name). */
  anyMacro(name: string): unknown;
  /** The `dispatch:` config: search order per macro namespace. */
  searchOrder(namespace: string): readonly string[] | undefined;
  /** The database and table a relation-like value names. */
  relationName(value: unknown): RelationName | undefined;
  /** The kiln cross-database macros, by name (the `dbt` namespace). */
  dbtMacro(name: string): unknown;
  /** kiln's ClickHouse version of a package's dispatched macro (`clickhouse__x`), or undefined. */
  packageClickhouseMacro(pkg: string, name: string): unknown;
  /** This render's `{% call statement(name) %}` results, for load_result(name). */
  results(): Map<string, QueryRows>;
  /** A statement the render asks to run where it runs (a hook): adapter.drop_relation's. */
  sideStatement(sql: string): void;
}

/** The prefixes adapter.dispatch tries, in order. */
export const DISPATCH_PREFIXES = ['clickhouse__', 'default__'] as const;

/** A namespace object whose unknown members fail naming what kiln lacks. */
function strictNamespace<T extends object>(label: string, members: T, fail: (err: unknown) => never, lookup?: (name: string) => unknown): T {
  return new Proxy(members, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target) return Reflect.get(target, key, receiver) as unknown;
      const found = lookup?.(key);
      if (found !== undefined) return found;
      return () => fail(new KilnError('TEMPLATE_ERROR', `kiln does not provide ${label}.${key}`, { hint: `see README "dbt compatibility" for the ${label} members kiln has` }));
    },
  });
}

/** Builds the globals. */
export function dbtContext(host: DbtContextHost): Record<string, unknown> {
  const { fail } = host;

  const ask = (q: WarehouseQuestion): unknown => {
    host.markIntrospective();
    const answers = host.answers();
    if (!answers) return undefined;
    return answers.answer(q);
  };

  const runQuery = (sql: unknown): unknown => {
    const rows = ask({ kind: 'query', sql: String(sql) }) as QueryRows | undefined;
    return rows ? statementResult(rows).table : undefined;
  };

  const dispatch = (...args: unknown[]): unknown => {
    const { positional, kw } = splitKeywords(args);
    const name = String(positional[0] ?? kw.macro_name ?? '');
    const ns = (positional[1] ?? kw.macro_namespace) as string | undefined;
    const order = ns ? host.searchOrder(ns) ?? [host.projectName, ns] : [host.projectName];
    for (const pkg of order) {
      for (const prefix of DISPATCH_PREFIXES) {
        const macro = pkg === 'dbt' ? host.dbtMacro(prefix + name) : host.macro(pkg === host.projectName ? undefined : pkg, prefix + name);
        if (typeof macro === 'function') return macro;
        // What an adapter ships for the package: after the package's own clickhouse__, before its default__.
        const shipped = prefix === 'clickhouse__' ? host.packageClickhouseMacro(pkg, prefix + name) : undefined;
        if (typeof shipped === 'function') return shipped;
      }
    }
    // dbt stops here; kiln also takes a global of the name (a package's macro copied elsewhere).
    for (const prefix of DISPATCH_PREFIXES) {
      const macro = host.anyMacro(prefix + name);
      if (typeof macro === 'function') return macro;
    }
    return fail(
      new KilnError('UNKNOWN_MACRO', `adapter.dispatch('${name}'${ns ? `, '${ns}'` : ''}) found no macro clickhouse__${name} or default__${name}`, {
        hint: `searched ${order.join(', ')}; define one of them or set dispatch: in project.yml`,
      }),
    );
  };

  const columnsOf = (relation: unknown): ColumnInfo[] => {
    const rel = host.relationName(relation);
    if (!rel) return fail(new KilnError('TEMPLATE_ERROR', `adapter.get_columns_in_relation() needs a relation, got ${relation === undefined ? 'None' : String(relation)}`));
    const cols = ask({ kind: 'columns', ...rel }) as readonly RelationColumn[] | undefined;
    return (cols ?? []).map((c) => new ColumnInfo(c.name, c.type));
  };

  const getRelation = (database: unknown, schema: unknown, identifier: unknown): Relation | null => {
    const db = String(schema ?? database ?? host.targetDatabase);
    const exists = ask({ kind: 'relation', database: db, table: String(identifier) }) as string | null | undefined;
    return exists ? new Relation(db, String(identifier), exists) : null;
  };

  const loadRelation = (relation: unknown) => {
    const rel = host.relationName(relation);
    return rel ? getRelation(rel.database, rel.database, rel.table) : null;
  };

  const adapter = strictNamespace(
    'adapter',
    {
      dispatch,
      quote: (s: unknown) => quoteIdentifier(String(s)),
      get_columns_in_relation: columnsOf,
      get_relation: (...args: unknown[]) => {
        const { positional, kw } = splitKeywords(args);
        return getRelation(kw.database ?? positional[0], kw.schema ?? positional[1], kw.identifier ?? positional[2]);
      },
      load_relation: loadRelation,
      // Run where the template runs, before its own SQL: in a hook, as dbt runs it there.
      drop_relation: (relation: unknown) => {
        const rel = host.relationName(relation);
        if (!rel) return fail(new KilnError('TEMPLATE_ERROR', `adapter.drop_relation() needs a relation, got ${relation === undefined ? 'None' : String(relation)}`));
        // A ref (`this`, ref('x')) prints as its placeholder, resolved with the hook's own SQL.
        const text = String(relation);
        host.sideStatement(dropRelationNamed({ cluster: host.targetCluster }, /^\u0000ref:[^\u0000]+\u0000$/.test(text) ? text : qualifiedName(rel.database, rel.table)));
        return '';
      },
      type: () => 'clickhouse',
    },
    fail,
  );

  const api = {
    Relation: strictNamespace(
      'api.Relation',
      {
        create: (...args: unknown[]) => {
          const { positional, kw } = splitKeywords(args);
          const schema = kw.schema ?? positional[1] ?? kw.database ?? positional[0] ?? host.targetDatabase;
          return new Relation(String(schema), String(kw.identifier ?? positional[2] ?? ''), (kw.type as string | undefined) ?? null);
        },
        add_ephemeral_prefix: (name: unknown) => `__dbt__cte__${String(name)}`,
      },
      fail,
    ),
  };

  const exceptions = strictNamespace(
    'exceptions',
    {
      raise_compiler_error: (message: unknown) => fail(new KilnError('TEMPLATE_ERROR', String(message))),
      raise_not_implemented: (message: unknown) => fail(new KilnError('TEMPLATE_ERROR', `not implemented: ${String(message)}`)),
      warn: (message: unknown) => {
        host.warn(String(message));
        return '';
      },
    },
    fail,
  );

  const statement = (...args: unknown[]): string => {
    const { positional, kw } = splitKeywords(args);
    const name = String(positional[0] ?? kw.name ?? 'main');
    const caller = kw.caller as (() => unknown) | undefined;
    const sql = caller ? String(caller()) : '';
    const rows = ask({ kind: 'query', sql }) as QueryRows | undefined;
    if (rows) host.results().set(name, rows);
    return '';
  };

  const modules = pythonModules(() => host.now());

  return {
    adapter,
    api,
    exceptions,
    modules,
    dbt: strictNamespace('dbt', {}, fail, (name) => host.dbtMacro(name)),
    run_query: runQuery,
    load_relation: loadRelation,
    statement,
    load_result: (name: unknown) => {
      const rows = host.results().get(String(name));
      return rows ? statementResult(rows) : undefined;
    },
    store_result: () => '',
    return: (value: unknown) => {
      throw new MacroReturn(value);
    },
    zip,
    zip_strict: zip,
    namespace,
    __kiln_setattr: setAttribute,
    __kiln_spread: (items: unknown) => new Spread(items),
    __kiln_kwsplat: (entries: unknown) => new KeywordSplat(entries),
    tojson,
    fromjson,
    toyaml,
    fromyaml,
    // A Python set: unique and, having no order, sorted, so two sets compare equal by value.
    set: (items: unknown) => pySet(items),
    set_strict: (items: unknown) => pySet(items),
    log: (message: unknown, ...rest: unknown[]) => {
      const { positional, kw } = splitKeywords(rest);
      if (kw.info ?? positional[0]) host.log(String(message));
      return '';
    },
    print: (message: unknown) => {
      host.log(String(message));
      return '';
    },
    local_md5: (s: unknown) => createHash('md5').update(String(s)).digest('hex'),
    flags: { FULL_REFRESH: false, WHICH: 'run' },
    // kiln's tests do not store failures in tables.
    should_store_failures: () => false,
    should_full_refresh: () => false,
  };
}

function pySet(items: unknown): unknown[] {
  return [...new Set(items == null ? [] : (items as Iterable<unknown>))].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
}

/** `kwargs` and `varargs`: a macro's undeclared arguments; getters over the running macro. */
export function defineMacroArguments(globals: Record<string, unknown>): void {
  Object.defineProperty(globals, 'kwargs', { get: currentKwargs, configurable: true });
  Object.defineProperty(globals, 'varargs', { get: currentVarargs, configurable: true });
}
