import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import { KilnError, type SourceLocation, type Warning } from '../errors.js';
import { didYouMean } from '../project/closest.js';
import type { MacroFile } from '../project/nodes.js';
import { lookupEnvVar, lookupVar, MissingVariableError, type VarScope } from '../project/yaml-strings.js';
import { CROSS_DATABASE_MACROS_FILE } from './cross-database-macros.js';
import { PACKAGE_CLICKHOUSE_MACROS } from './package-clickhouse-macros.js';
import { dbtContext, defineMacroArguments, DISPATCH_PREFIXES, Relation, type RelationName } from './dbt-context.js';
import type { QueryRows, WarehouseAnswers } from './introspection.js';
import { installJinjaCompat } from './jinja-compat.js';
import { DoExtension, installJinjaRuntime, JINJA_RUNTIME_VERSION, jinjaToNunjucks, kilnCompiledSource, macroTrace, startRender } from './jinja-runtime.js';
import { installJinjaFilters } from './jinja-filters.js';
import { boundedRange, renderLimitsFrom, withDeadline, type RenderLimits } from './render-limits.js';
import { prepareMacroSource } from './macro-source.js';
import { refPlaceholder, resolvePlaceholders, resolveSourcePlaceholders, sourceOfPlaceholder } from './placeholders.js';
import { parseSimpleTemplate, type Literal, type SimplePart } from './simple-template.js';
import { templateCacheKey, type CompiledTemplateCache } from './template-cache.js';

/** What every template can see about the target. Never the URL or credentials. */
export interface TemplateTarget {
  readonly name: string;
  readonly engine: string;
  readonly database: string;
  readonly raw_database: string;
  /** The target's `cluster` (dbt-clickhouse's target.cluster): adapter.drop_relation drops ON CLUSTER it. */
  readonly cluster?: string;
}

/** One `dispatch:` entry of project.yml: where `adapter.dispatch(name, macro_namespace)` looks. */
export interface DispatchConfig {
  readonly macro_namespace: string;
  readonly search_order: readonly string[];
}

/** What `source()` resolves against. */
export interface SourceRelations {
  /** The fully quoted relation of `source(source, table)`; undefined when the project has no such table. */
  relation(source: string, table: string): string | undefined;
  /** The declared `source.table` names, for "did you mean" hints. */
  readonly declared: readonly string[];
  /** The relation of a table whose `relation` is a placeholder (one declaring event_time). */
  readonly actual?: (source: string, table: string) => string | undefined;
}

/**
 * Source relations from declared tables (source → table → relation); `other` answers for tables
 * not declared (a whole-database source has any table its database has).
 */
export function sourceRelationsOf(
  tables: ReadonlyMap<string, ReadonlyMap<string, string>>,
  other: (source: string, table: string) => string | undefined = () => undefined,
): SourceRelations {
  return {
    relation: (source, table) => tables.get(source)?.get(table) ?? other(source, table),
    declared: [...tables].flatMap(([source, ts]) => [...ts.keys()].map((table) => `${source}.${table}`)),
  };
}

export interface TemplateEngineOptions {
  readonly projectName: string;
  readonly scope: VarScope;
  readonly target: TemplateTarget;
  readonly runStartedAt: Date;
  readonly invocationId: string;
  readonly sources: SourceRelations;
  readonly macros: readonly MacroFile[];
  /** nunjucks' generated code for templates, kept between runs (see template-cache.ts). */
  readonly templateCache?: CompiledTemplateCache;
  /** Bounds on one render; from the environment (KILN_RENDER_*) unless given. */
  readonly limits?: RenderLimits;
  /** The project's `dispatch:` config. */
  readonly dispatch?: readonly DispatchConfig[];
  /** The var scope of a file of a package (dbt scopes vars per package); `scope` when absent or undefined. */
  readonly packageScope?: (file: string) => VarScope | undefined;
}

export interface RenderInput {
  readonly name: string;
  readonly file: string;
  readonly code: string;
  readonly isIncremental?: boolean;
  /** Unit-test overrides of vars. */
  readonly vars?: Readonly<Record<string, unknown>>;
  /** Unit tests: what `source()` renders for a table the project has (a placeholder for its fixture). */
  readonly sourceRelation?: (source: string, table: string) => string;
  /**
   * The warehouse, when the node renders to execute (`execute` is true): run_query and the
   * adapter's introspection read it. Absent while compiling.
   */
  readonly answers?: WarehouseAnswers;
  /** Where a ref'd model lives (database, table), when known (at execution). */
  readonly refRelation?: (name: string) => RelationName | undefined;
}

export interface RenderOutput {
  /** SQL with ref placeholders (see placeholders.ts), resolved once every node's config is known. */
  readonly sql: string;
  readonly refs: readonly string[];
  readonly sources: ReadonlyArray<readonly [string, string]>;
  /** Merged keyword arguments of every `config()` call. */
  readonly config: Readonly<Record<string, unknown>>;
  /** True when the output depends on something besides the file and vars (time, invocation). */
  readonly volatile: boolean;
  /** True when the render asked the warehouse (run_query, statement, get_columns_in_relation, …). */
  readonly introspective: boolean;
  /** Statements the template asks to run before its own SQL (adapter.drop_relation); hooks run them. */
  readonly statements?: readonly string[];
  /**
   * True when the template read where a ref lands (`{{ this.schema }}`, `ref('x').identifier`)
   * before that was known, and got the target's database and the ref's name: the compile renders
   * it again once every node's config is known.
   */
  readonly readsPlacement?: boolean;
}

/**
 * A dbt Relation stand-in: prints as the placeholder, answers `.name`/`.identifier`, and
 * `.schema`/`.database` where the model lives (known at execution; the target's database before).
 */
export class RefRelation {
  constructor(
    readonly name: string,
    private readonly where: () => RelationName | undefined,
    private readonly fallbackDatabase: string,
  ) {}
  get identifier(): string {
    return this.where()?.table ?? this.name;
  }
  get schema(): string {
    return this.where()?.database ?? this.fallbackDatabase;
  }
  get database(): string {
    return this.schema;
  }
  get type(): null {
    return null;
  }
  /** What dbt code checks to tell a relation from a string (dbt_utils' _is_relation). */
  get metadata(): { type: string } {
    return { type: 'ClickHouseRelation' };
  }
  render(): string {
    return this.toString();
  }
  include(): RefRelation {
    return this;
  }
  incorporate(): RefRelation {
    return this;
  }
  toString(): string {
    return refPlaceholder(this.name);
  }
}

/** A value that is exactly one ref() placeholder (a test's `model` argument). */
const REF_ONLY = /^\u0000ref:([^\u0000]+)\u0000$/;

/** `\`db\`.\`table\`` (as source() renders) → its parts. */
const QUALIFIED = /^`((?:[^`\\]|\\.)*)`\.`((?:[^`\\]|\\.)*)`$/;

interface RenderState {
  readonly input: RenderInput;
  refs: string[];
  sources: Array<readonly [string, string]>;
  config: Record<string, unknown>;
  volatile: boolean;
  introspective: boolean;
  /** `{% call statement(name) %}` results, for load_result(name). */
  readonly results: Map<string, QueryRows>;
  /** Statements to run before the output (adapter.drop_relation), where the template runs. */
  statements?: string[];
  /** Read where a ref lands (`this.schema`) with no answer yet: see RenderOutput.readsPlacement. */
  readsPlacement?: boolean;
  /** The error a global threw, kept because nunjucks flattens it into a message. */
  error?: unknown;
}

/** nunjucks' typings omit these two public members. */
interface ExportingTemplate {
  getExported(ctx: object, frame: null, cb: (err: Error | null, exported: unknown) => void): void;
}
function globalsOf(env: nunjucks.Environment): Record<string, unknown> {
  return (env as unknown as { globals: Record<string, unknown> }).globals;
}

const ENV_OPTIONS = { autoescape: false, throwOnUndefined: false } as const;

/** What nunjucks' generated code depends on besides the template: its version and our options. */
export const TEMPLATE_CACHE_VERSION = `nunjucks ${(createRequire(import.meta.url)('nunjucks/package.json') as { version: string }).version} ${JSON.stringify(ENV_OPTIONS)} jinja-compat kiln-runtime-${JINJA_RUNTIME_VERSION}`;

/** nunjucks' code generator; public, but missing from its typings. */
const nunjucksCompiler = (nunjucks as unknown as {
  compiler: { compile(src: string, asyncFilters: unknown, extensions: unknown, name: string, opts: unknown): string };
}).compiler;

/** nunjucks.Template also takes generated code (`{ type: 'code', obj }`); its typings omit it. */
const TemplateFromCode = nunjucks.Template as unknown as new (
  src: { type: 'code'; obj: object },
  env: nunjucks.Environment,
  path: string,
  eagerCompile: boolean,
) => nunjucks.Template;

const SYNTAX_LINE = /\[Line (\d+)(?:, Column \d+)?\]/;

/** Globals a simple template (see simple-template.ts) may call without nunjucks. */
const SIMPLE_CALLS = ['ref', 'source', 'config', 'var', 'env_var'] as const;

/**
 * One nunjucks environment per invocation, with kiln's context as globals (so macros see `ref`
 * and `var` too). Rendering is synchronous, so the per-render state is a field, set for the
 * duration of one `render` call.
 */
export class TemplateEngine {
  private readonly env: nunjucks.Environment;
  private readonly cache = new Map<string, nunjucks.Template>();
  private readonly simpleCache = new Map<string, SimplePart[] | null>();
  /** kiln's own functions behind SIMPLE_CALLS, to notice a macro that replaced one. */
  private readonly builtins = new Map<string, unknown>();
  private state: RenderState | undefined;
  readonly macroNames: ReadonlySet<string>;
  readonly warnings: Warning[] = [];
  /** Set once any render read run_started_at or invocation_id (its output differs on every run). */
  readsClock = false;
  /** Macro files that did not load, each with its file and line; compile reports them all. */
  readonly macroErrors: KilnError[] = [];
  /** What templates logged (`log(msg, info=True)`, `print`), in order; the CLI may show them. */
  readonly logs: string[] = [];
  /** A package's macro files loaded as one text: where each file starts (1-based line). */
  private readonly joinedFiles = new Map<string, ReadonlyArray<{ readonly file: string; readonly start: number }>>();
  /** kiln's cross-database macros as loaded, the members of the `dbt` namespace. */
  private readonly dbtMacros = new Map<string, unknown>();
  /** kiln's ClickHouse versions of packages' dispatched macros, by package namespace. */
  private readonly packageClickhouseMacros = new Map<string, Record<string, unknown>>();
  /**
   * Macros by package, the root project's under its own name: what `{{ pkg.macro() }}` reads,
   * and where `adapter.dispatch(name, macro_namespace)` searches. Kiln's built-in tests are in none.
   */
  macroNamespaces: ReadonlyMap<string, Readonly<Record<string, unknown>>> = new Map();
  /**
   * `{% materialization %}` blocks the project's and its packages' macros define: loaded, not
   * run; a model using one compiles, and is refused only when selected to run.
   */
  readonly materializations: Array<{ readonly package: string; readonly name: string; readonly file: string }> = [];

  private readonly limits: RenderLimits;

  constructor(private readonly opts: TemplateEngineOptions) {
    this.limits = opts.limits ?? renderLimitsFrom(opts.scope.env);
    installJinjaCompat();
    installJinjaRuntime();
    this.env = new nunjucks.Environment(null, { ...ENV_OPTIONS });
    this.env.addExtension('KilnDo', new DoExtension());
    installJinjaFilters(this.env);
    this.installGlobals();
    // dbt's cross-database macros: globals a project's macros may replace, and the `dbt` namespace.
    for (const [name, macro] of Object.entries(this.exportedMacros(CROSS_DATABASE_MACROS_FILE.path, CROSS_DATABASE_MACROS_FILE.source) ?? {})) {
      this.dbtMacros.set(name, macro);
      this.env.addGlobal(name, macro);
    }
    this.macroNames = this.loadMacros(opts.macros);
    // Only for a package the project has: the others would be compiled for nothing.
    for (const [namespace, file] of PACKAGE_CLICKHOUSE_MACROS) {
      if (this.macroNamespaces.has(namespace)) this.packageClickhouseMacros.set(namespace, this.exportedMacros(file.path, file.source) ?? {});
    }
  }

  render(input: RenderInput): RenderOutput {
    const simple = this.simpleTemplate(input.code);
    const fast = simple && this.renderSimple(simple, input);
    if (fast) return fast;
    const state: RenderState = { input, refs: [], sources: [], config: {}, volatile: false, introspective: false, results: new Map() };
    const template = this.compileTemplate(input.code, input.file);
    this.env.addGlobal('this', this.refRelation(input.name));
    this.state = state;
    startRender();
    try {
      const sql = this.bounded(state, () => template.render({}));
      return { sql, refs: state.refs, sources: state.sources, config: state.config, volatile: state.volatile, introspective: state.introspective, ...(state.statements ? { statements: state.statements } : {}), ...(state.readsPlacement ? { readsPlacement: true } : {}) };
    } catch (err) {
      throw this.toKilnError(err, state.error, input.file, 1);
    } finally {
      this.state = undefined;
    }
  }

  /**
   * True when the root project defines `name`, or `clickhouse__name` / `default__name` that
   * adapter.dispatch would pick over kiln's: dbt's overridable macros (generate_schema_name…) are
   * called only then, and computed without a render otherwise.
   */
  rootOverrides(name: string): boolean {
    const root = this.macroNamespaces.get(this.opts.projectName);
    return root !== undefined && [name, ...DISPATCH_PREFIXES.map((p) => p + name)].some((n) => typeof root[n] === 'function');
  }

  /**
   * Calls a macro by name (generic tests are macros named `test_<name>`), with keyword
   * arguments, or positional ones as dbt calls its own macros (`generate_schema_name(custom, node)`).
   */
  callMacro(name: string, input: Omit<RenderInput, 'code'>, args: Record<string, unknown> | readonly unknown[]): RenderOutput {
    // `package.macro`: the package's own definition, even where the root project overrides the name.
    const dot = name.indexOf('.');
    const macro = dot > 0 ? this.macroNamespaces.get(name.slice(0, dot))?.[name.slice(dot + 1)] : globalsOf(this.env)[name];
    if (typeof macro !== 'function') {
      throw new KilnError('UNKNOWN_MACRO', `macro '${name}' is not defined`, { location: { file: input.file } });
    }
    const state: RenderState = { input: { ...input, code: '' }, refs: [], sources: [], config: {}, volatile: false, introspective: false, results: new Map() };
    this.env.addGlobal('this', this.refRelation(input.name));
    this.state = state;
    startRender();
    try {
      const call = macro as (...a: unknown[]) => unknown;
      let sql: string;
      if (Array.isArray(args)) {
        sql = this.bounded(state, () => String(call(...args)));
      } else {
        // A relation argument (`model`, `compare_model`) is a relation object, as dbt passes it.
        const kw: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(args)) {
          const ref = typeof value === 'string' ? REF_ONLY.exec(value) : null;
          kw[key] = ref ? this.refRelation(ref[1]!) : value;
        }
        sql = this.bounded(state, () => String(call({ ...kw, __keywords: true })));
      }
      return { sql, refs: state.refs, sources: state.sources, config: state.config, volatile: state.volatile, introspective: state.introspective, ...(state.statements ? { statements: state.statements } : {}), ...(state.readsPlacement ? { readsPlacement: true } : {}) };
    } catch (err) {
      throw this.toKilnError(err, state.error, input.file, 0);
    } finally {
      this.state = undefined;
    }
  }

  private simpleTemplate(code: string): SimplePart[] | null {
    let parts = this.simpleCache.get(code);
    if (parts === undefined) {
      parts = parseSimpleTemplate(code, this.builtins) ?? null;
      this.simpleCache.set(code, parts);
    }
    return parts;
  }

  /**
   * Renders a simple template exactly as nunjucks would (same globals, same arguments, same
   * string concatenation). Undefined when a call throws or a macro shadows a built-in: nunjucks
   * then renders it from scratch and reports any error with its line.
   */
  private renderSimple(parts: readonly SimplePart[], input: RenderInput): RenderOutput | undefined {
    const globals = globalsOf(this.env);
    const state: RenderState = { input, refs: [], sources: [], config: {}, volatile: false, introspective: false, results: new Map() };
    this.env.addGlobal('this', this.refRelation(input.name));
    this.state = state;
    try {
      let sql = '';
      for (const part of parts) {
        if (typeof part === 'string') {
          sql += part;
          continue;
        }
        const fn = globals[part.fn];
        if (fn !== this.builtins.get(part.fn)) return undefined;
        const args: unknown[] = part.args.map(freshLiteral);
        if (part.kwargs) {
          const kw: Record<string, unknown> = {};
          for (const [key, value] of part.kwargs) kw[key] = freshLiteral(value);
          kw.__keywords = true;
          args.push(kw);
        }
        const value = (fn as (...a: unknown[]) => unknown)(...args);
        // nunjucks: `output += suppressValue(value)`, i.e. null/undefined print nothing.
        sql += (value ?? '') as string;
      }
      return { sql, refs: state.refs, sources: state.sources, config: state.config, volatile: state.volatile, introspective: state.introspective, ...(state.statements ? { statements: state.statements } : {}), ...(state.readsPlacement ? { readsPlacement: true } : {}) };
    } catch {
      return undefined;
    } finally {
      this.state = undefined;
    }
  }

  private compileTemplate(code: string, file: string): nunjucks.Template {
    const cached = this.cache.get(code);
    if (cached) return cached;
    let template: nunjucks.Template;
    try {
      template = this.nunjucksTemplate(code, file);
    } catch (err) {
      throw this.toKilnError(err, undefined, file, 0);
    }
    this.cache.set(code, template);
    return template;
  }

  /**
   * `new nunjucks.Template(code, env, path, true)`, skipping nunjucks' compiler when the cache has
   * its generated code. A template that does not compile is never cached: it goes through the
   * plain constructor again so its error reads exactly as before.
   */
  private nunjucksTemplate(jinja: string, path: string): nunjucks.Template {
    const code = jinjaToNunjucks(jinja);
    const cache = this.opts.templateCache;
    const key = templateCacheKey(path, code);
    const cached = cache?.get(key);
    if (cached !== undefined) {
      try {
        return new TemplateFromCode({ type: 'code', obj: new Function(cached)() as object }, this.env, path, true);
      } catch {
        // a corrupt entry: compile afresh below
      }
    }
    const env = this.env as unknown as { asyncFilters: unknown; extensionsList: unknown; opts: unknown };
    let source: string;
    try {
      source = kilnCompiledSource(nunjucksCompiler.compile(code, env.asyncFilters, env.extensionsList, path, env.opts), path);
    } catch {
      return new nunjucks.Template(code, this.env, path, true);
    }
    cache?.set(key, source);
    return new TemplateFromCode({ type: 'code', obj: new Function(source)() as object }, this.env, path, true);
  }

  private current(): RenderState {
    if (!this.state) throw new Error('template global called outside a render');
    return this.state;
  }

  /** Records the real error for toKilnError, then throws it into nunjucks. */
  /** A render within the time and size limits; past them it fails naming the file (see render-limits.ts). */
  private bounded(state: RenderState, render: () => string): string {
    const { timeoutMs, maxOutput } = this.limits;
    const sql = withDeadline(
      timeoutMs,
      () => {
        const err = new KilnError('TEMPLATE_ERROR', `rendering took longer than ${timeoutMs / 1000} s and was stopped`, {
          hint: 'look for a loop that never ends or runs far too often; KILN_RENDER_TIMEOUT_SECONDS raises the limit',
        });
        if (state.error === undefined) state.error = err;
        return err;
      },
      render,
    );
    if (sql.length > maxOutput) {
      throw new KilnError('TEMPLATE_ERROR', `the rendered SQL is ${(sql.length / 2 ** 20).toFixed(1)} MB, over the limit of ${(maxOutput / 2 ** 20).toFixed(1)} MB`, {
        location: { file: state.input.file },
        hint: 'a loop probably emits far more than intended; KILN_RENDER_MAX_OUTPUT_MB raises the limit',
      });
    }
    return sql;
  }

  private fail(err: unknown): never {
    if (this.state && this.state.error === undefined) this.state.error = err;
    throw err;
  }

  private installGlobals(): void {
    const { opts } = this;
    const env = this.env;
    env.addGlobal('ref', (...args: unknown[]) => {
      const names = args.filter((a) => typeof a === 'string') as string[];
      // ref('package', 'model') is accepted; kiln has one package.
      const name = names[names.length - 1];
      if (!name) this.fail(new KilnError('TEMPLATE_ERROR', 'ref() needs a model name'));
      this.current().refs.push(name);
      return this.refRelation(name);
    });
    env.addGlobal('source', (sourceName: unknown, tableName: unknown) => {
      const s = String(sourceName);
      const t = String(tableName);
      const relation = opts.sources.relation(s, t);
      if (relation === undefined) {
        const all = opts.sources.declared;
        const hint = didYouMean(`${s}.${t}`, all);
        this.fail(
          new KilnError('UNKNOWN_SOURCE', `unknown source '${s}.${t}'`, {
            hint: hint ?? (all.length ? `declared sources: ${all.slice(0, 8).join(', ')}` : 'declare it in sources.yml'),
          }),
        );
      }
      const state = this.current();
      state.sources.push([s, t]);
      return state.input.sourceRelation ? state.input.sourceRelation(s, t) : relation;
    });
    env.addGlobal('config', (...args: unknown[]) => {
      const state = this.current();
      for (const arg of args) {
        if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
          const { __keywords: _ignored, ...kw } = arg as Record<string, unknown>;
          Object.assign(state.config, kw);
        }
      }
      return '';
    });
    env.addGlobal('var', (name: unknown, fallback?: unknown) => {
      const state = this.current();
      const base = opts.packageScope?.(state.input.file) ?? opts.scope;
      const scope = state.input.vars ? { ...base, vars: { ...base.vars, ...state.input.vars } } : base;
      try {
        return lookupVar(scope, String(name), fallback);
      } catch (err) {
        return this.fail(err);
      }
    });
    env.addGlobal('env_var', (name: unknown, fallback?: unknown) => {
      try {
        return lookupEnvVar(opts.scope, String(name), fallback);
      } catch (err) {
        return this.fail(err);
      }
    });
    env.addGlobal('is_incremental', () => this.current().input.isIncremental === true);
    env.addGlobal(
      'range',
      boundedRange(this.limits.maxRangeItems, (items) =>
        this.fail(new KilnError('TEMPLATE_ERROR', `range() of ${items} items is more than kiln renders (at most ${this.limits.maxRangeItems})`, { hint: 'iterate over fewer items, or generate the rows in SQL (numbers(), arrayJoin)' })),
      ),
    );
    env.addGlobal('target', { ...opts.target });
    const stamp = opts.runStartedAt.toISOString().replace('T', ' ').slice(0, 19);
    Object.defineProperty(globalsOf(env), 'run_started_at', {
      get: () => {
        this.readsClock = true;
        if (this.state) this.state.volatile = true;
        return stamp;
      },
    });
    for (const name of SIMPLE_CALLS) this.builtins.set(name, globalsOf(env)[name]);
    Object.defineProperty(globalsOf(env), 'invocation_id', {
      get: () => {
        this.readsClock = true;
        if (this.state) this.state.volatile = true;
        return opts.invocationId;
      },
    });
    env.addGlobal('project_name', opts.projectName);
    const dispatch = opts.dispatch ?? [];
    const context = dbtContext(
      {
        projectName: opts.projectName,
        targetDatabase: opts.target.database,
        ...(opts.target.cluster ? { targetCluster: opts.target.cluster } : {}),
        fail: (err) => this.fail(err),
        warn: (message) => this.warnings.push({ message, location: { file: this.state?.input.file ?? '' } }),
        log: (message) => this.logs.push(message),
        now: () => opts.runStartedAt,
        answers: () => this.state?.input.answers,
        markIntrospective: () => {
          if (this.state) this.state.introspective = true;
        },
        macro: (pkg, name) => this.macroNamespaces.get(pkg ?? opts.projectName)?.[name],
        anyMacro: (name) => globalsOf(env)[name],
        searchOrder: (namespace) => dispatch.find((d) => d.macro_namespace === namespace)?.search_order,
        relationName: (value) => this.relationName(value),
        dbtMacro: (name) => this.dbtMacros.get(name),
        packageClickhouseMacro: (pkg, name) => this.packageClickhouseMacros.get(pkg)?.[name],
        results: () => this.current().results,
        sideStatement: (sql) => void (this.current().statements ??= []).push(sql),
      });
    for (const [name, value] of Object.entries(context)) env.addGlobal(name, value);
    defineMacroArguments(globalsOf(env));
    // A template that reads `execute` renders differently when it executes: it is rendered again then.
    Object.defineProperty(globalsOf(env), 'execute', {
      get: () => {
        if (this.state) this.state.introspective = true;
        return this.state?.input.answers !== undefined;
      },
      configurable: true,
    });
    env.addGlobal('target', { ...opts.target, schema: opts.target.database, type: 'clickhouse', profile_name: opts.projectName, threads: 1 });
  }

  private refRelation(name: string): RefRelation {
    const input = this.state?.input;
    return new RefRelation(
      name,
      () => {
        const lookup = (input ?? this.state?.input)?.refRelation;
        if (!lookup && this.state) this.state.readsPlacement = true;
        return lookup?.(name);
      },
      this.opts.target.database,
    );
  }

  /** The database and table a relation-like template value names. */
  private relationName(value: unknown): RelationName | undefined {
    if (value instanceof RefRelation) return { database: value.schema, table: value.identifier };
    if (value instanceof Relation) return { database: value.schema || this.opts.target.database, table: value.identifier };
    if (value === null || value === undefined) return undefined;
    const text = String(value);
    const ref = REF_ONLY.exec(text);
    if (ref) return this.relationName(this.refRelation(ref[1]!));
    const source = sourceOfPlaceholder(text);
    const actual = source && this.opts.sources.actual?.(source[0], source[1]);
    if (actual) return this.relationName(actual);
    const m = QUALIFIED.exec(text);
    if (m) return { database: m[1]!.replace(/\\(.)/g, '$1'), table: m[2]!.replace(/\\(.)/g, '$1') };
    const dot = text.indexOf('.');
    return dot > 0 ? { database: text.slice(0, dot), table: text.slice(dot + 1) } : { database: this.opts.target.database, table: text };
  }

  /**
   * Root macros (and kiln's built-ins) load file by file, each a global. A package's files load as
   * one template, so its macros — `_private` ones included — see each other first, as dbt's local
   * namespace does; its public macros are globals only where the root project defines none of that
   * name (the root project first, as in dbt), and all of them live under the package's name.
   */
  private loadMacros(files: readonly MacroFile[]): ReadonlySet<string> {
    const names = new Set<string>();
    // kiln's own macros (built-in tests, cross-database macros) may be overridden without a warning.
    const builtin = new Set<string>();
    const rootNamespace: Record<string, unknown> = {};
    const packageFiles = new Map<string, MacroFile[]>();
    for (const file of files) {
      if (file.package !== undefined) {
        let list = packageFiles.get(file.package);
        if (!list) packageFiles.set(file.package, (list = []));
        list.push(file);
        continue;
      }
      const prepared = prepareMacroSource(file.source);
      for (const m of prepared.materializations) this.materializations.push({ package: this.opts.projectName, name: m, file: file.path });
      const exported = this.exportedMacros(file.path, prepared.code);
      if (!exported) continue;
      for (const [name, macro] of Object.entries(exported)) {
        if (file.path.startsWith('<kiln>/')) builtin.add(name);
        else builtin.delete(name);
        if (names.has(name) && !builtin.has(name)) {
          this.warnings.push({ message: `macro '${name}' is defined more than once; the last definition wins`, location: { file: file.path } });
        }
        names.add(name);
        this.env.addGlobal(name, macro);
        rootNamespace[name] = macro;
      }
    }
    const globals = globalsOf(this.env);
    const namespaces = new Map<string, Readonly<Record<string, unknown>>>([[this.opts.projectName, rootNamespace]]);
    for (const [pkg, list] of packageFiles) {
      const exported = this.loadPackageMacros(pkg, list);
      namespaces.set(pkg, exported);
      for (const [name, macro] of Object.entries(exported)) {
        if (names.has(name)) continue;
        names.add(name);
        this.env.addGlobal(name, macro);
      }
    }
    // `{{ dbt_utils.star(...) }}`: a namespace is a global of the package's name, unless that name is taken.
    for (const [name, namespace] of namespaces) if (!(name in globals)) this.env.addGlobal(name, namespace);
    this.macroNamespaces = namespaces;
    return names;
  }

  /** The macros a file exports; undefined (with the error in macroErrors) when it does not load. */
  private exportedMacros(path: string, code: string): Record<string, unknown> | undefined {
    let exported: Record<string, unknown> = {};
    try {
      const template = this.nunjucksTemplate(code, path);
      (template as unknown as ExportingTemplate).getExported({}, null, (err, exp) => {
        if (err) throw err;
        exported = exp as Record<string, unknown>;
      });
    } catch (err) {
      this.macroErrors.push(this.toKilnError(err, undefined, path, 0));
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [name, macro] of Object.entries(exported)) if (typeof macro === 'function') out[name] = macro;
    return out;
  }

  /**
   * A package's macro files as one template (one nunjucks context, so they call each other and
   * their `_private` macros unqualified). When that does not load, each file loads on its own so
   * the error names the file that has it.
   */
  private loadPackageMacros(pkg: string, files: readonly MacroFile[]): Record<string, unknown> {
    const prepared = files.map((f) => {
      const p = prepareMacroSource(f.source);
      for (const m of p.materializations) this.materializations.push({ package: pkg, name: m, file: f.path });
      return p.code;
    });
    const errors = this.macroErrors.length;
    const wholePath = `${pkg} (macros of package ${pkg})`;
    // Where each file starts in the joined text, so a line in it names the file and its own line.
    let start = 1;
    this.joinedFiles.set(
      wholePath,
      files.map((f, i) => {
        const at = { file: f.path, start };
        start += prepared[i]!.split('\n').length;
        return at;
      }),
    );
    const whole = this.exportedMacros(wholePath, prepared.join('\n'));
    if (whole) return whole;
    this.macroErrors.length = errors;
    const out: Record<string, unknown> = {};
    files.forEach((f, i) => Object.assign(out, this.exportedMacros(f.path, prepared[i]!)));
    return out;
  }

  /** A line of a package's joined macro text as its own file and line. */
  private fileLine(file: string, line: number): { file: string; line: number } {
    const parts = this.joinedFiles.get(file);
    if (!parts) return { file, line };
    let found = parts[0]!;
    for (const p of parts) if (p.start <= line) found = p;
    return { file: found.file, line: line - found.start + 1 };
  }

  private toKilnError(err: unknown, recorded: unknown, file: string, lineOffset: number): KilnError {
    const message = err instanceof Error ? err.message : String(err);
    const m = SYNTAX_LINE.exec(message);
    // Runtime lines are 0-based and nunjucks prints no marker for line 0: that is the file's line 1.
    const line = m ? Number(m[1]) + lineOffset : lineOffset === 1 && message.startsWith(`(${file})`) ? 1 : undefined;
    const location: SourceLocation = line === undefined ? { file } : { file, line };
    const cause = recorded ?? err;
    // An error raised inside a macro: the call site is the location, the macro's file:line is named.
    const frames = macroTrace()
      .map((f) => this.fileLine(f.file, f.line))
      .filter((f) => !f.file.startsWith('<kiln>/') && f.file !== file);
    const inMacro = frames.length ? ` (in macro ${frames.map((f) => `${f.file}:${f.line}`).join(', called from ')})` : '';
    if (cause instanceof KilnError) {
      // A message built from ref() holds placeholders: show the model names.
      const readable = resolveSourcePlaceholders(resolvePlaceholders(cause.message, (n) => n), (src, t) => `${src}.${t}`);
      return new KilnError(cause.code, readable + inMacro, { location: cause.location ?? location, ...(cause.hint ? { hint: cause.hint } : {}) });
    }
    if (cause instanceof MissingVariableError) {
      return new KilnError(cause.kind === 'var' ? 'UNKNOWN_VAR' : 'CONFIG_INVALID', cause.message, {
        location,
        hint:
          cause.kind === 'var'
            ? didYouMean(cause.variable, Object.keys(this.opts.scope.vars)) ??
              `define it under vars: in project.yml or pass --vars '{${cause.variable}: ...}'`
            : `export ${cause.variable}=... or give env_var() a default`,
      });
    }
    // nunjucks messages look like "(file) [Line 2, Column 7]\n  unexpected token: %}".
    const detail = (message.split('\n').slice(1).join(' ').trim() || message).replace(/^Error: /, '');
    const missing = /^Unable to call `(.+)`, which is undefined or falsey$/.exec(detail);
    if (missing) {
      const name = missing[1]!.replace(/\["([^"]+)"\]/g, '.$1');
      return new KilnError('TEMPLATE_ERROR', `kiln does not provide ${name}: no macro or function of that name${inMacro}`, {
        location,
        hint: didYouMean(name, [...this.macroNames]) ?? 'define it as a macro in macro-paths, or see README "dbt compatibility" for what kiln provides',
      });
    }
    return new KilnError('TEMPLATE_ERROR', `template error: ${detail}${inMacro}`, {
      location,
      hint: 'check the Jinja syntax around this line ({{ }} for expressions, {% %} for statements)',
    });
  }
}

/** nunjucks builds list literals anew on every render; so do we, so no render sees another's. */
function freshLiteral(value: Literal): unknown {
  return Array.isArray(value) ? value.map(freshLiteral) : value;
}
