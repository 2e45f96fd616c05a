import { defineConfig } from 'vitest/config';

/**
 * Two projects, by where a test lives. `unit`: the *.test.ts files beside the code in src/, pure code, no database, seconds
 * (`npm run test:unit`). `integration`: everything under test/, real PostgreSQL and MongoDB provisioned once by the global
 * setup, the built CLI, the whole system. A unit test that reaches for a database fails loudly
 * (test/support/databases.ts).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'clients/typescript/src/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
