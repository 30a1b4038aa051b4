import { afterAll, beforeAll, expect, it } from 'vitest';
import { capabilitiesFor, type Capabilities } from '../../src/adapters/capabilities.js';
import { describeWithClickHouse } from '../harness/clickhouse-server.js';
import { contractMaterializationFiles, contractMaterializationScenario, expectSnapshotContractRefused, SNAPSHOT_CONTRACT_FILES } from '../helpers/contracts-materializations.js';
import { allOutput, removeProjects, STACK_FRAME } from '../helpers/kiln-cli.js';
import { serverProject, serverSession } from '../helpers/server-target.js';

/**
 * Contracts on microbatch tables and materialized_view targets against clickhouse-server (18.16):
 * names, types and not_null work there; codec, skipping indexes and projections are built where
 * the server has them, and refused before anything runs where it does not (the reason printed).
 */
afterAll(removeProjects);

describeWithClickHouse('contracts on other materializations, clickhouse-server', (getServer) => {
  const { kiln, rows, server } = serverSession(getServer);
  let caps: Capabilities;
  let options: boolean;
  beforeAll(() => {
    caps = capabilitiesFor(server().version);
    options = caps.columnCodecs && caps.skippingIndexes && caps.projections;
  });

  it('a microbatch table and a materialized view target take the contract (and the options the server has); a mismatch fails before the swap', async () => {
    if (!options) console.log(`clickhouse-server ${server().version} lacks column codecs, skipping indexes or projections: the scenario runs with the contract only`);
    const dir = serverProject('cm', contractMaterializationFiles(options));
    await contractMaterializationScenario(dir, 'cm', options, (args) => kiln(dir, args), (sql) => rows(sql));
  }, 300_000);

  it('table options the server lacks, on a microbatch table or a view target, are refused before anything runs', async (ctx) => {
    if (options) {
      ctx.skip(`clickhouse-server ${server().version} has codecs, indexes and projections: built in the scenario above`);
      return;
    }
    const dir = serverProject('cm_opt', contractMaterializationFiles(true));
    const r = await kiln(dir, ['run', '-s', '+mv']);
    expect(r.code, allOutput(r)).toBe(2);
    expect(allOutput(r)).toMatch(new RegExp(`models/mv\\.sql: model 'mv' uses column codec, which needs ClickHouse \\d+\\.\\d+ or later; target 'ch' runs ${server().version.replace(/\./g, '\\.')}`));
    expect(allOutput(r)).not.toMatch(STACK_FRAME);
    const mb = await kiln(dir, ['run', '-s', '+mb']);
    expect(mb.code, allOutput(mb)).toBe(2);
    expect(allOutput(mb)).toMatch(/models\/mb\.sql: model 'mb' uses column codec, which needs ClickHouse/);
    expect(await rows(`SELECT name FROM system.tables WHERE database = 'cm_opt'`)).toEqual([]);
  }, 120_000);

  it('a snapshot with an enforced contract is exit 2 at its config line', async () => {
    const dir = serverProject('cs', SNAPSHOT_CONTRACT_FILES);
    expectSnapshotContractRefused(await kiln(dir, ['compile']));
  }, 120_000);
});
