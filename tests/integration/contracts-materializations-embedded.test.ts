import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { contractMaterializationFiles, contractMaterializationScenario, expectSnapshotContractRefused, SNAPSHOT_CONTRACT_FILES } from '../helpers/contracts-materializations.js';
import { projectYml, removeProjects, runKiln, writeProject } from '../helpers/kiln-cli.js';
import { queryWarehouse } from '../helpers/warehouse.js';

/** Contracts, codecs, indexes and projections on microbatch tables and materialized_view targets; a snapshot's contract refused. Embedded engine. */
afterAll(removeProjects);

describe('contracts on other materializations, embedded', () => {
  it('a microbatch table and a materialized view target take the contract and table options; a mismatch fails before the swap', async () => {
    const dir = writeProject({ 'project.yml': projectYml('cm'), ...contractMaterializationFiles(true) });
    await contractMaterializationScenario(dir, 'analytics', true, (args) => runKiln(dir, args), (sql) => queryWarehouse(join(dir, '.kiln/dev'), sql));
  }, 300_000);

  it('a snapshot with an enforced contract is exit 2 at its config line', async () => {
    const dir = writeProject({ 'project.yml': projectYml('cs'), ...SNAPSHOT_CONTRACT_FILES });
    expectSnapshotContractRefused(await runKiln(dir, ['compile']));
  }, 120_000);
});
