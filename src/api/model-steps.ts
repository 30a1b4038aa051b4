import type { Adapter } from '../adapters/adapter.js';
import { filteredRelation } from '../adapters/microbatch-sql.js';
import { hookSql, modelSql, type ExecutionManifest } from '../compile/execution-manifest.js';
import type { Manifest, ModelManifestNode } from '../compile/manifest.js';
import type { RunOptions } from '../execute/phase.js';
import type { Batch } from '../materialize/microbatch-batches.js';
import { KilnError } from '../errors.js';
import { SqlError } from '../adapters/sql-error.js';
import { withoutStatementPosition } from '../adapters/sql-error-position.js';
import { sqlErrorLocation } from '../compile/sql-error-location.js';
import { STRATEGIES } from '../materialize/index.js';
import { contractDifferencesBeforeRun, unsupportedTableOptionError } from '../materialize/defined-table.js';
import { DEFINED_TABLE_KINDS } from '../compile/table-definition.js';
import { knownInputs } from '../compile/known-structures.js';
import { withQuerySettings, type MaterializeContext } from '../materialize/materialization.js';
import type { PlanStep } from '../plan/plan.js';
import { scratchRunId, type RunContext } from '../execute/phase.js';
import type { ExecStep } from '../execute/run-steps.js';
import { runPathOf, writeRunStatements } from '../report/run-statements.js';
import { renderIntrospective } from '../compile/introspective-render.js';
import { askWarehouse } from '../execute/ask-warehouse.js';
import { sourceKey } from '../template/placeholders.js';
import type { NodeConfig } from '../project/types.js';

/** Turns planned model and seed steps into executable steps bound to a warehouse. */
export function materializeSteps(ctx: RunContext, adapter: Adapter, plan: readonly PlanStep[], opts: { readonly refeedOnly?: boolean } = {}): ExecStep[] {
  const { compiled } = ctx;
  const runId = scratchRunId(ctx);
  const fullRefresh = ctx.options.fullRefresh === true;
  const ephemerals = adapter.ephemeralStyle;
  const runOptions = ctx.options;
  assertTableOptionsSupported(ctx, adapter, plan);
  return plan.map((step) => {
    const node = compiled.manifest.nodes[step.uniqueId]!;
    const isModel = node.resource_type === 'model' || node.resource_type === 'snapshot';
    const runPath = isModel ? runPathOf((node as ModelManifestNode).compiled_path, compiled.project.config.targetPath) : null;
    return {
      uniqueId: step.uniqueId,
      deps: step.deps,
      label: step.label,
      originalFilePath: node.original_file_path,
      compiledPath: isModel ? (node as ModelManifestNode).compiled_path : null,
      runPath,
      async execute() {
        const compiledExec = compiled.execution.models[step.uniqueId]!;
        // A model that asks the warehouse while rendering is rendered now, against the target.
        const exec = 'introspective' in compiledExec && compiledExec.introspective ? await renderIntrospective(compiled, step.uniqueId, compiledExec, askWarehouse(adapter)) : compiledExec;
        if (exec.kind.materialized === 'ephemeral') throw new KilnError('INTERNAL', `ephemeral ${step.uniqueId} was planned to run`);
        const strategy = STRATEGIES[exec.kind.materialized];
        const metered = adapter.metered();
        const ctx: MaterializeContext = {
          warehouse: metered.adapter,
          node,
          kind: exec.kind,
          ...('table' in exec && exec.table ? { table: exec.table } : {}),
          relation: step.relation,
          existing: step.existing,
          fullRefresh,
          ...(opts.refeedOnly ? { refeedOnly: true } : {}),
          runId,
          sql: ({ isIncremental, batch }) => {
            // A seed loads its CSV and has no SQL of its own.
            if (!('sql' in exec)) throw new KilnError('INTERNAL', `seed ${step.uniqueId} has no model SQL`);
            const execution = batch ? batchExecution(compiled.execution, compiled.manifest, batch) : compiled.execution;
            return withQuerySettings(exec.kind, node.config, modelSql(execution, exec, { isIncremental, style: ephemerals }));
          },
          ...batchOptions(runOptions, step.uniqueId),
          hooks: (kind) => hookSql(compiled.execution, exec, kind, ephemerals),
        };
        let out: Awaited<ReturnType<typeof strategy.run>>;
        try {
          out = await strategy.run(ctx);
        } catch (err) {
          // ClickHouse's position is in the statement it got; the reader wants the model's own line.
          if (err instanceof SqlError && 'sql' in exec && !err.location) {
            const variants = [false, true].map((isIncremental) => modelSql(compiled.execution, exec, { isIncremental, style: ephemerals }));
            const location = sqlErrorLocation(err, { file: node.original_file_path, template: (node as ModelManifestNode).raw_code, sql: variants });
            throw err.at(location, location.line === undefined ? err.message : withoutStatementPosition(err.message));
          }
          throw err;
        } finally {
          // Up to and including a failing statement, so its line and column can be read against it.
          if (runPath) writeRunStatements(compiled.project.root, runPath, metered.statements());
        }
        const failedBatches = out.batches?.failed.length ?? 0;
        return {
          status: failedBatches ? ('error' as const) : ('success' as const),
          rowsAffected: out.rowsAffected,
          message: out.message,
          ...(out.batches ? { batchResults: { successful: out.batches.successful.map(isoPair), failed: out.batches.failed.map(isoPair) } } : {}),
          queryTimeMs: metered.elapsedMs(),
          relationName: `${step.relation.database}.${step.relation.name}`,
        };
      },
    };
  });
}

const isoPair = (b: Batch): [string, string] => [b.start.toISOString(), b.end.toISOString()];

/** The run's microbatch window, or the batches `kiln retry` reruns for this node. */
function batchOptions(options: RunOptions, uniqueId: string): { batches?: MaterializeContext['batches'] } {
  const retry = options.retryBatches?.[uniqueId]?.map(([start, end]) => ({ start: new Date(start), end: new Date(end) }));
  if (!retry && !options.eventTimeStart && !options.eventTimeEnd) return {};
  return {
    batches: {
      ...(options.eventTimeStart ? { eventTimeStart: options.eventTimeStart } : {}),
      ...(options.eventTimeEnd ? { eventTimeEnd: options.eventTimeEnd } : {}),
      ...(retry ? { retry } : {}),
    },
  };
}

/**
 * The execution manifest as one batch reads it: each upstream model, seed or source table that
 * configures `event_time` is its rows in the batch's window (dbt 1.9's microbatch filter); the
 * others whole.
 */
function batchExecution(execution: ExecutionManifest, manifest: Manifest, batch: Batch): ExecutionManifest {
  const eventTimeOf = (config: NodeConfig) => (typeof config.event_time === 'string' && config.event_time.trim() ? config.event_time : undefined);
  const relations: Record<string, string> = { ...execution.refs.relations };
  for (const node of Object.values(manifest.nodes)) {
    const eventTime = eventTimeOf(node.config);
    if (!eventTime || relations[node.name] === undefined) continue;
    relations[node.name] = filteredRelation(relations[node.name]!, eventTime, batch.start, batch.end);
  }
  // Only source tables declaring event_time are in refs.sources (compile/render-models.ts).
  const sources: Record<string, string> = { ...execution.refs.sources };
  for (const source of Object.values(manifest.sources)) {
    const eventTime = eventTimeOf(source.config);
    const key = sourceKey(source.source_name, source.name);
    if (!eventTime || sources[key] === undefined) continue;
    sources[key] = filteredRelation(sources[key]!, eventTime, batch.start, batch.end);
  }
  return { ...execution, refs: { ...execution.refs, relations, sources } };
}

/**
 * A table option the target's server lacks (codec on 18.16, projections before 21.6, …) is an
 * error before any step runs, naming the option and the version that has it, instead of a
 * syntax error halfway through the run.
 */
function assertTableOptionsSupported(ctx: RunContext, adapter: Adapter, plan: readonly PlanStep[]): void {
  for (const step of plan) {
    const node = ctx.compiled.manifest.nodes[step.uniqueId];
    const exec = ctx.compiled.execution.models[step.uniqueId];
    if (!node || node.resource_type !== 'model' || !exec || !DEFINED_TABLE_KINDS.has(exec.kind.materialized)) continue;
    const error = unsupportedTableOptionError(node, 'table' in exec ? exec.table : undefined, { name: adapter.target.name, version: adapter.version, capabilities: adapter.capabilities });
    if (error) throw error;
  }
}

/**
 * Before the first change of a run: every selected model with an enforced contract whose inputs'
 * types are all declared (seeds with column_types, typed sources, contracted models) has its
 * SELECT's types checked against the contract on the target. A mismatch stops the run before
 * anything changes (exit 1), listing every such model; the others are checked when they build.
 */
export async function checkContractsBeforeRun(ctx: RunContext, adapter: Adapter, plan: readonly PlanStep[]): Promise<void> {
  const problems: string[] = [];
  let first: ModelManifestNode | undefined;
  for (const step of plan) {
    const node = ctx.compiled.manifest.nodes[step.uniqueId];
    const exec = ctx.compiled.execution.models[step.uniqueId];
    const contract = exec && 'table' in exec ? exec.table?.contract : undefined;
    if (!node || node.resource_type !== 'model' || !contract || !('sql' in exec!)) continue;
    const inputs = knownInputs(ctx.compiled, step.uniqueId);
    if (!inputs) continue;
    const sql = modelSql(ctx.compiled.execution, exec, { isIncremental: false, style: adapter.ephemeralStyle });
    const diff = await contractDifferencesBeforeRun(adapter, contract, sql, inputs);
    if (!diff?.length) continue;
    first ??= node;
    problems.push(`${node.original_file_path}: ${diff.join('; ')}`);
  }
  if (!first) return;
  throw new KilnError('CONTRACT_MISMATCH', `${problems.length === 1 ? `model '${first.name}' does` : `${problems.length} models do`} not match ${problems.length === 1 ? 'its' : 'their'} enforced contract (checked before the run, from the declared types of ${problems.length === 1 ? 'its' : 'their'} inputs): ${problems.length === 1 ? problems[0]!.replace(/^[^:]+: /, '') : problems.join(' | ')}`, {
    location: { file: first.original_file_path },
    hint: "nothing was changed; fix the SELECT (CAST(x AS Type) gives a column its contract type) or the contract's columns",
  });
}
