import type { Relation } from '../adapters/ddl.js';
import type { TestManifestNode } from '../compile/manifest.js';
import { YamlLocator } from '../compile/yaml-locator.js';
import { scratchRunId, type Phase, type RunContext } from '../execute/phase.js';
import type { ExecStep } from '../execute/run-steps.js';
import type { Dag } from '../graph/dag.js';
import { runDataTest } from './data-test-step.js';
import { UnitTestScratch } from './unit-test-scratch.js';
import { runUnitTest } from './unit-test-step.js';

/**
 * The selected data tests and unit tests as steps. In `build` they join the models' DAG: a data
 * test runs right after what it reads and gates its model (everything downstream waits for it and
 * is skipped when it fails with severity error); a unit test runs before its model, once the
 * model's parents exist (their column types shape the fixtures).
 */
export const testPhase: Phase = {
  name: 'test',
  checks: { tests: true },
  // Unit tests write only scratch tables named for their run; store_failures writes relations.
  writes: (run) => selectedDataTests(run).some((t) => t.config.store_failures === true),
  relations: (run) => selectedDataTests(run).filter((t) => t.config.store_failures === true).map((t): Relation => ({ database: t.database, name: t.alias })),
  steps(run, adapter) {
    const { manifest, dag } = run.compiled;
    const steps: ExecStep[] = [];
    for (const node of selectedDataTests(run)) {
      steps.push({
        uniqueId: node.unique_id,
        deps: node.depends_on.nodes,
        gates: gatesOf(node, dag),
        label: `test ${node.name}`,
        originalFilePath: node.declared_at.file,
        compiledPath: node.compiled_path,
        execute: () => runDataTest(run.compiled, adapter, node),
      });
    }
    const locator = new YamlLocator(run.compiled.parsed.propertyFiles);
    const unitTests = Object.values(manifest.unit_tests).filter((node) => run.selected.has(node.unique_id));
    const scratch = new UnitTestScratch(adapter, run.compiled.project.target.database, scratchRunId(run), unitTests.length, run.holdsTargetLock === true);
    for (const [index, node] of unitTests.entries()) {
      const modelId = node.depends_on.nodes[0]!;
      steps.push({
        uniqueId: node.unique_id,
        deps: dag.parents(modelId),
        precedes: [modelId],
        label: `unit test ${node.model}::${node.name}`,
        originalFilePath: node.declared_at.file,
        execute: () => runUnitTest({ compiled: run.compiled, adapter, locator, scratch, index }, node),
      });
    }
    return steps;
  },
};

function selectedDataTests(run: RunContext): TestManifestNode[] {
  return Object.values(run.compiled.manifest.tests).filter((t) => run.selected.has(t.unique_id));
}

/**
 * The node a test gates: its attached node, or for a singular test the one node it reads that
 * all its other inputs are upstream of. Never a node another input descends from (gating it
 * would make that input wait for a test that waits for it).
 */
export function gatesOf(node: TestManifestNode, dag: Dag): string[] {
  const deps = node.depends_on.nodes.filter((d) => dag.has(d));
  const downstreamOf = (g: string) => deps.some((d) => d !== g && dag.ancestors(d).has(g));
  const candidates = node.attached_node ? [node.attached_node] : deps.filter((d) => !downstreamOf(d) && deps.every((o) => o === d || dag.ancestors(d).has(o)));
  return candidates.filter((g) => dag.has(g) && !downstreamOf(g));
}
