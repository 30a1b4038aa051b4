import type { Adapter } from '../adapters/adapter.js';
import type { ModelManifestNode } from '../compile/manifest.js';
import { KilnError } from '../errors.js';
import { MATERIALIZATIONS } from '../materialize/index.js';
import type { MaterializeContext } from '../materialize/materialization.js';
import type { PlanStep } from '../plan/plan.js';
import type { ExecStep } from '../execute/run-steps.js';
import type { Invocation } from './invocation.js';

/** Turns planned model and seed steps into executable steps bound to a warehouse. */
export function materializeSteps(inv: Invocation, adapter: Adapter, plan: readonly PlanStep[]): ExecStep[] {
  const { compiled } = inv;
  const runId = inv.invocationId.replace(/-/g, '').slice(0, 12);
  const ephemerals = adapter.ephemeralStyle;
  return plan.map((step) => {
    const node = compiled.manifest.nodes[step.uniqueId]!;
    const isModel = node.resource_type === 'model';
    return {
      uniqueId: step.uniqueId,
      deps: step.deps,
      label: step.label,
      originalFilePath: node.original_file_path,
      compiledPath: isModel ? (node as ModelManifestNode).compiled_path : null,
      async execute() {
        const strategy = MATERIALIZATIONS[step.materialization];
        if (!strategy) {
          throw new KilnError('CONFIG_INVALID', `materialization '${step.materialization}' is not available yet`, {
            location: { file: node.original_file_path },
            hint: 'use view, table or ephemeral',
          });
        }
        const metered = adapter.metered();
        const ctx: MaterializeContext = {
          warehouse: metered.adapter,
          node,
          relation: step.relation,
          existing: step.existing,
          fullRefresh: inv.options.fullRefresh === true,
          runId,
          sql: ({ isIncremental }) =>
            isModel && (isIncremental || ephemerals !== 'cte')
              ? compiled.renderModel(step.uniqueId, { isIncremental, ephemerals })
              : (node as ModelManifestNode).compiled_code,
          hooks: (kind) => {
            const hooks = (node.config[kind] as string[] | undefined) ?? [];
            return hooks.map((h) => {
              const out = compiled.engine.render({ name: node.name, file: node.original_file_path, code: h });
              return compiled.resolveSql(out.sql, out.refs, ephemerals);
            });
          },
        };
        const out = await strategy.run(ctx);
        return {
          status: 'success' as const,
          rowsAffected: out.rowsAffected,
          message: out.message,
          queryTimeMs: metered.elapsedMs(),
          relationName: `${step.relation.database}.${step.relation.name}`,
        };
      },
    };
  });
}
