import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: pure code, no database, runs in seconds (`npm run test:unit`). `integration`: real
 * PostgreSQL and MongoDB provisioned once by the global setup, the built CLI, the whole system.
 * A suite that needs a database and is listed as unit fails loudly (test/support/databases.ts).
 */
const UNIT = [
  'src/domain/**/*.test.ts',
  'src/config/**/*.test.ts',
  'src/processor/transform/**/*.test.ts',
  'src/processor/revision-plan.test.ts',
  'src/streams/{pipeline,sweep,backoff}.test.ts',
  'src/db/mongo-errors.test.ts',
  'test/compose.test.ts',
  'test/monitoring.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...UNIT, '**/node_modules/**'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
