import type { Adapter, RelationInfo } from '../adapters/adapter.js';
import { rel, type Relation } from '../adapters/ddl.js';
import * as shadowSql from '../adapters/shadow-sql.js';
import { withoutStatementPosition } from '../adapters/sql-error-position.js';
import { SqlError } from '../adapters/sql-error.js';
import { hookSql } from '../compile/execution-manifest.js';
import type { ManifestNode, ModelManifestNode, TestManifestNode } from '../compile/manifest.js';
import { resolveSql, type RefTable } from '../compile/sql-resolver.js';
import { sqlErrorLocation } from '../compile/sql-error-location.js';
import { KilnError, type SourceLocation } from '../errors.js';
import { unsupportedTableOptionError } from '../materialize/defined-table.js';
import { DEFINED_TABLE_KINDS } from '../compile/table-definition.js';
import { STRATEGIES } from '../materialize/index.js';
import { viewMaterialization } from '../materialize/view-materialization.js';
import type { MaterializeContext } from '../materialize/materialization.js';
import { relationKey, type StepKind } from '../plan/plan.js';
import { sourceColumnsPlanner } from '../stage/planned-columns.js';
import { scratchRunId, type RunContext } from './phase.js';
import { escapeRegExp } from '../escape-regexp.js';

/** What validation looks at: the kinds of node a command builds, and whether it runs data tests. */
export interface ValidationScope {
  readonly kinds: ReadonlySet<StepKind>;
  readonly tests: boolean;
}

export interface ValidationOutcome {
  /** Models, seeds and tests ClickHouse analysed. */
  readonly checked: number;
  /**
   * Nodes not analysed: something they read failed its own check (its error is reported), or
   * they render against the warehouse at run time (run_query, get_columns_in_relation…).
   */
  readonly notChecked: number;
  /** Hooks parsed. */
  readonly hooks: number;
  readonly errors: readonly KilnError[];
  readonly elapsedMs: number;
}


/** A node's own problems a check can find besides SQL errors: a seed's column_types naming no column. */
const CHECK_ERRORS: ReadonlySet<string> = new Set(['CONFIG_INVALID']);

const HINT = 'found before any change: nothing was run (kiln build --no-validate skips this check)';

/**
 * Validation before any change (issue 16). Every selected model, seed and data test is created or
 * queried, in DAG order, in a shadow database where each input is an empty stand-in: a source's
 * raw table with the columns it has (or, not staged yet, the columns staging will give it), a
 * relation this run does not build with its columns on the target, and each selected model as
 * its own SQL made it. ClickHouse so checks names, functions, types and table options against the
 * columns each input will have, without reading or writing a row. Hooks, which may write
 * anywhere, are parsed only. The shadow is dropped afterwards. Validation runs under the
 * target's lock (any command that validates takes it), so a shadow it finds is one a killed run
 * left behind, and is dropped.
 *
 * Errors are collected, not thrown at the first: a node whose input failed its check is counted
 * as not checked rather than reported twice.
 */
export async function validateSelection(ctx: RunContext, adapter: Adapter, scope: ValidationScope): Promise<ValidationOutcome> {
  const t0 = performance.now();
  const { manifest, dag, execution } = ctx.compiled;
  const shadowDb = shadowSql.shadowDatabaseName(scratchRunId(ctx));
  const shadowOf = (r: Relation): Relation => ({ database: shadowDb, name: `${r.database}.${r.name}` });
  const errors: KilnError[] = [];
  const failed = new Set<string>();
  let checked = 0;
  let notChecked = 0;

  const order = dag.topologicalOrder();
  const isChecked = (id: string): boolean => {
    const node = manifest.nodes[id];
    return node !== undefined && ctx.selected.has(id) && scope.kinds.has(node.resource_type);
  };
  // Seeds first: they read nothing, and a source may name a seed's table (a dbt project's
  // `source()` of a table a seed fills), whose stand-in is then the seed's own shadow.
  const seedFirst = (id: string) => (manifest.nodes[id]?.resource_type === 'seed' ? 0 : 1);
  const models = order.filter(isChecked).sort((a, b) => seedFirst(a) - seedFirst(b));
  const built = new Set(models.map((id) => relationKey({ database: manifest.nodes[id]!.database, name: manifest.nodes[id]!.alias })));
  const tests = scope.tests ? Object.values(manifest.tests).filter((t) => ctx.selected.has(t.unique_id)).sort((a, b) => a.unique_id.localeCompare(b.unique_id)) : [];

  // Inputs: every graph node a checked node or test reads that this run does not build.
  // An ephemeral one is inlined into its readers, so what it reads is an input too.
  const inputs = new Set<string>();
  const isEphemeral = (id: string) => manifest.nodes[id]?.resource_type === 'model' && manifest.nodes[id]!.config.materialized === 'ephemeral';
  const addInputs = (parents: readonly string[]): void => {
    for (const p of parents) {
      if (isChecked(p) || inputs.has(p)) continue;
      inputs.add(p);
      if (isEphemeral(p)) addInputs(dag.parents(p));
    }
  };
  for (const id of [...models, ...tests.map((t) => t.unique_id)]) addInputs(dag.has(id) ? dag.parents(id) : manifest.tests[id]!.depends_on.nodes);

  try {
    await dropLeftoverShadows(adapter);
    await adapter.execute(shadowSql.createShadowDatabase(adapter.ddl, shadowDb));
  } catch (err) {
    if (!(err instanceof SqlError)) throw err;
    throw new KilnError('TARGET_INVALID', `target '${ctx.compiled.project.target.name}': validation cannot create its scratch database ${shadowDb}: ${err.message}`, {
      hint: 'grant the user CREATE DATABASE and DROP DATABASE on _kiln_validate_*, or skip the check with --no-validate',
      cause: err,
    });
  }
  const planner = sourceColumnsPlanner(ctx, adapter);
  try {
    const existing = await existingRelations(adapter, [...models, ...inputs].map((id) => manifest.nodes[id]).filter((n): n is ManifestNode => n !== undefined));
    const sourceText = new Map<string, string>();
    for (const id of [...inputs].sort()) {
      const problem = await standInFor(id);
      if (problem) {
        errors.push(problem);
        failed.add(id);
      }
    }
    for (const { relation, columns } of await planner.stagingTables()) {
      await adapter.execute(shadowSql.createStandIn(shadowOf(relation), columns));
      sourceText.set(rel(relation), rel(shadowOf(relation)));
      sourceText.set(`${relation.database}.${relation.name}`, rel(shadowOf(relation)));
    }
    const refs = shadowRefs(execution.refs, manifest, shadowOf);
    // One pass, longest name first: a shadow name contains the real one it replaces.
    const names = [...sourceText.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    const pattern = names.length ? new RegExp(names.join('|'), 'g') : undefined;
    const toShadow = (sql: string): string => (pattern ? sql.replace(pattern, (m) => sourceText.get(m)!) : sql);

    for (const id of models) {
      const node = manifest.nodes[id]!;
      const exec = execution.models[id];
      // Rendered with `execute` false, its SQL is a placeholder until it renders against the
      // warehouse at run time: neither it nor what reads it can be checked beforehand.
      if (exec && 'introspective' in exec && exec.introspective) {
        failed.add(id);
        notChecked++;
        continue;
      }
      if (dag.parents(id).some((p) => failed.has(p))) {
        failed.add(id);
        notChecked++;
        // Its inputs cannot be stood in for, but a syntax error needs none: it is parsed.
        const problem = await parseModel(node);
        if (problem) errors.push(problem);
        continue;
      }
      const problem = await checkNode(node);
      checked++;
      if (problem) {
        errors.push(problem);
        failed.add(id);
      }
    }
    for (const test of tests) {
      if (test.depends_on.nodes.some((p) => failed.has(p))) {
        notChecked++;
        continue;
      }
      const rendered = execution.tests[test.unique_id];
      if (!rendered) continue;
      if (rendered.rerender) {
        notChecked++;
        continue;
      }
      checked++;
      const sql = toShadow(resolveSql(refs, rendered, adapter.ephemeralStyle));
      try {
        // A view, not a query: ClickHouse analyses it without building a pipeline (10× faster here).
        await adapter.execute(shadowSql.checkView(adapter.ddl, { database: shadowDb, name: test.unique_id }, sql));
      } catch (err) {
        if (!(err instanceof SqlError)) throw err;
        errors.push(invalid(`test '${test.name}' would fail on target '${ctx.compiled.project.target.name}': ${err.message}`, testLocation(test, err, sql), err));
      }
    }
    const hooks = await parseHooks(models);
    return { checked, notChecked, hooks, errors, elapsedMs: performance.now() - t0 };

    async function standInFor(id: string): Promise<KilnError | undefined> {
      const source = manifest.sources[id];
      if (source) {
        const relation = { database: source.database, name: source.identifier };
        if (built.has(relationKey(relation))) {
          sourceText.set(source.relation_name, rel(shadowOf(relation)));
          return undefined;
        }
        const columns = await planner.columnsOf(id);
        if (columns instanceof KilnError) return columns;
        await adapter.execute(shadowSql.createStandIn(shadowOf(relation), columns));
        sourceText.set(source.relation_name, rel(shadowOf(relation)));
        return undefined;
      }
      const node = manifest.nodes[id];
      if (!node) return undefined;
      if (node.resource_type === 'model' && node.config.materialized === 'ephemeral') return undefined;
      const relation = { database: node.database, name: node.alias };
      const info = existing.get(relationKey(relation));
      if (!info) {
        const readers = dag.children(id).filter((c) => isChecked(c)).map((c) => manifest.nodes[c]!.name);
        return new KilnError('SQL_INVALID', `${readers.length ? readers.map((r) => `'${r}'`).join(', ') : 'a selected test'} read${readers.length === 1 ? 's' : ''} ${node.resource_type} '${node.name}' (${relation.database}.${relation.name}), which does not exist on target '${ctx.compiled.project.target.name}' and is not selected`, {
          location: { file: node.original_file_path },
          hint: `select it too (e.g. --select +${readers[0] ?? node.name}), or build it first`,
        });
      }
      await adapter.execute(shadowSql.createStandIn(shadowOf(relation), await adapter.columns(relation)));
      return undefined;
    }

    async function checkNode(node: ManifestNode): Promise<KilnError | undefined> {
      const exec = execution.models[node.unique_id]!;
      const relation = { database: node.database, name: node.alias };
      const sqlOf = (isIncremental: boolean): string => {
        if (!('sql' in exec)) throw new KilnError('INTERNAL', `seed ${node.unique_id} has no model SQL`);
        const rendered = isIncremental && exec.incrementalSql ? exec.incrementalSql : exec.sql;
        return toShadow(resolveSql(refs, rendered, adapter.ephemeralStyle));
      };
      if (node.resource_type === 'model' && DEFINED_TABLE_KINDS.has(exec.kind.materialized) && exec.kind.materialized !== 'materialized_view') {
        // Said as the run says it: the option and the version that has it, not the syntax error.
        const unsupported = unsupportedTableOptionError(node, 'table' in exec ? exec.table : undefined, { name: ctx.compiled.project.target.name, version: adapter.version, capabilities: adapter.capabilities });
        if (unsupported) return unsupported;
      }
      const strategy = exec.kind.materialized === 'ephemeral' ? viewMaterialization : STRATEGIES[exec.kind.materialized];
      const mctx: MaterializeContext = {
        warehouse: adapter,
        node,
        kind: exec.kind,
        relation: shadowOf(relation),
        existing: existing.get(relationKey(relation)),
        fullRefresh: ctx.options.fullRefresh === true,
        runId: scratchRunId(ctx),
        sql: ({ isIncremental }) => sqlOf(isIncremental),
        hooks: () => [],
        ...('table' in exec && exec.table ? { table: exec.table } : {}),
      };
      try {
        await (strategy.check ?? viewMaterialization.check!)(mctx);
        return undefined;
      } catch (err) {
        const what = `${node.resource_type} '${node.name}' would fail on target '${ctx.compiled.project.target.name}'`;
        if (err instanceof KilnError && CHECK_ERRORS.has(err.code)) {
          return new KilnError('SQL_INVALID', `${what}: ${err.message}`, { location: err.location ?? { file: node.original_file_path }, hint: err.hint ? `${err.hint}; ${HINT}` : HINT, cause: err });
        }
        if (!(err instanceof SqlError)) throw err;
        if (!('sql' in exec)) return invalid(`${what}: ${err.message}`, { file: node.original_file_path }, err);
        const variants = [false, true].map(sqlOf);
        const location = sqlErrorLocation(err, { file: node.original_file_path, template: (node as ModelManifestNode).raw_code, sql: variants });
        return invalid(`${what}: ${location.line === undefined ? err.message : withoutStatementPosition(err.message)}`, location, err);
      }
    }

    /** A model's SQL parsed, not analysed: for a model whose inputs failed their own checks. */
    async function parseModel(node: ManifestNode): Promise<KilnError | undefined> {
      const exec = execution.models[node.unique_id]!;
      if (!('sql' in exec)) return undefined;
      const sql = toShadow(resolveSql(refs, exec.sql, adapter.ephemeralStyle));
      try {
        await adapter.parse(sql);
        return undefined;
      } catch (err) {
        if (!(err instanceof SqlError)) throw err;
        const location = sqlErrorLocation(err, { file: node.original_file_path, template: (node as ModelManifestNode).raw_code, sql: [sql] });
        return invalid(`${node.resource_type} '${node.name}' is not valid SQL: ${location.line === undefined ? err.message : withoutStatementPosition(err.message)}`, location, err);
      }
    }

    /** Hooks run against the real relations and may write anywhere: they are parsed, not run. */
    async function parseHooks(ids: readonly string[]): Promise<number> {
      let count = 0;
      for (const id of ids) {
        if (failed.has(id)) continue;
        const node = manifest.nodes[id]!;
        const exec = execution.models[id]!;
        for (const kind of ['pre_hook', 'post_hook'] as const) {
          for (const hook of hookSql(execution, exec, kind, adapter.ephemeralStyle)) {
            count++;
            try {
              await adapter.parse(hook);
            } catch (err) {
              if (!(err instanceof SqlError)) throw err;
              errors.push(invalid(`${kind.replace('_', '-')} of '${node.name}' is not valid SQL: ${err.message}`, { file: node.original_file_path }, err));
            }
          }
        }
      }
      return count;
    }
  } finally {
    planner.dispose();
    await adapter.execute(shadowSql.dropShadowDatabase(shadowDb));
  }
}

function invalid(message: string, location: SourceLocation, cause: SqlError): KilnError {
  return new KilnError('SQL_INVALID', shadowSql.withRealNames(message), { location, hint: cause.hint ? `${cause.hint}; ${HINT}` : HINT, cause });
}


function testLocation(test: TestManifestNode, err: SqlError, sql: string): SourceLocation {
  const declared: SourceLocation = { file: test.declared_at.file, ...(test.declared_at.line ? { line: test.declared_at.line } : {}) };
  // A singular test is a file of its own: its line is found as a model's is.
  if (test.test_metadata === undefined && test.original_file_path.endsWith('.sql')) {
    const at = sqlErrorLocation(err, { file: test.original_file_path, template: test.raw_code, sql: [sql] });
    return at.line !== undefined ? at : declared;
  }
  return declared;
}

/** Ref names resolved to the shadow: models and seeds to their shadow relations; ephemerals stay inlined. */
function shadowRefs(real: RefTable, manifest: RunContext['compiled']['manifest'], shadowOf: (r: Relation) => Relation): RefTable {
  const relations: Record<string, string> = {};
  const byText = new Map<string, string>();
  for (const node of Object.values(manifest.nodes)) byText.set(rel({ database: node.database, name: node.alias }), rel(shadowOf({ database: node.database, name: node.alias })));
  for (const [name, text] of Object.entries(real.relations)) relations[name] = byText.get(text) ?? text;
  // Sources are raw tables, read as they are.
  return { ...real, relations };
}

async function existingRelations(adapter: Adapter, nodes: readonly ManifestNode[]): Promise<Map<string, RelationInfo>> {
  const databases = [...new Set(nodes.map((n) => n.database))];
  const found = await adapter.listRelations(databases);
  return new Map(found.map((r) => [relationKey(r), r]));
}

/** Validation runs under the target's lock, so any shadow found is a killed run's. */
async function dropLeftoverShadows(adapter: Adapter): Promise<void> {
  const r = await adapter.query<{ name: string }>(shadowSql.listShadowDatabases());
  for (const { name } of r.rows) await adapter.execute(shadowSql.dropShadowDatabase(name));
}
