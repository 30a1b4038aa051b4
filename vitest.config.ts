import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // chdb binds one data folder per process: every test file runs in its own forked process.
    pool: 'forks',
    isolate: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: more workers only fight over them and the server suites.
    maxWorkers: 2,
  },
});
