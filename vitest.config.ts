import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // chdb binds one data folder per process: every test file runs in its own forked process.
    pool: 'forks',
    isolate: true,
    // 2 cores: more workers only fight over them and the server suites.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          // In-process and pure (at most a temp folder): a few ms each, under a second on a loaded machine.
          testTimeout: 15_000,
          hookTimeout: 15_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          // These run the real CLI from dist/: refuse a dist/ built before the last change to src/.
          globalSetup: ['tests/harness/fresh-dist.ts'],
          // Each test spawns several kiln and query processes (each loads the engine, ~1 s idle,
          // several on a loaded 2-core machine). Server suites raise theirs (describeIfInstalled).
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'sweeps',
          include: ['tests/sweeps/**/*.test.ts'],
          globalSetup: ['tests/harness/fresh-dist.ts'],
          // A sweep runs the command twice per statement it sends (crash, then rerun): dozens of
          // kiln processes, each a second or more on a loaded 2-core machine.
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['tests/cluster/**/*.test.ts'],
          globalSetup: ['tests/harness/fresh-dist.ts'],
          // Each file starts ZooKeeper and four clickhouse-servers once (tens of seconds on a loaded
          // machine); an ON CLUSTER statement waits for all four nodes.
          testTimeout: 300_000,
          hookTimeout: 400_000,
        },
      },
    ],
  },
});
