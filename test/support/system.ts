// The one system fixture every system-level suite uses: its own MongoDB and PostgreSQL databases, the
// system started through the same composition root as `prismo start`, and a reset that stops what was
// started and empties every collection and every table (the migrations' own table aside).

import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Role, type System, startSystem } from '../../src/cli/system.js';
import { loadSettings } from '../../src/config/config.js';
import type { Logger } from '../../src/config/logger.js';
import { createLogger } from '../../src/config/logger.js';
import { createTestMongo, createTestPostgres, mongoUri, type TestMongo, type TestPostgres } from './databases.js';

export interface SystemHarness {
  readonly pg: TestPostgres;
  readonly mongo: TestMongo;
  /** Starts the roles on the suite's databases with the suite's environment, `env` on top. */
  start(
    roles: Role[],
    env?: Record<string, string>,
    overrides?: { mongoUri?: string; databaseUrl?: string; logger?: Logger },
  ): Promise<System>;
  /** Runs at reset (and at the end), before the databases are emptied: proxies, extra processes. */
  defer(cleanup: () => Promise<unknown>): void;
  /** Stops everything started (in reverse order), leaving the data. */
  stop(): Promise<void>;
  /** Stops everything started, empties every collection and table. */
  reset(): Promise<void>;
}

/** Empties every table of the suite's database but node-pg-migrate's own. */
export async function truncateAll(pg: TestPostgres): Promise<void> {
  const tables = await pg.db.map(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations'",
    [],
    (row: { tablename: string }) => row.tablename,
  );
  if (tables.length) await pg.db.none('TRUNCATE $1:name', [tables]);
}

/**
 * Registers the suite's hooks: databases before all, `reset` after each test unless `resetAfterEach` is
 * false (suites that keep one system across tests), everything dropped after all.
 */
export function useSystem(env: Record<string, string> = {}, { resetAfterEach = true } = {}): SystemHarness {
  let pg: TestPostgres | undefined;
  let mongo: TestMongo | undefined;
  const cleanups: Array<() => Promise<unknown>> = [];

  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  const harness: SystemHarness = {
    get pg() {
      if (!pg) throw new Error('the system fixture is not set up yet (use it inside tests or hooks)');
      return pg;
    },
    get mongo() {
      if (!mongo) throw new Error('the system fixture is not set up yet (use it inside tests or hooks)');
      return mongo;
    },
    async start(roles, extra = {}, overrides = {}) {
      const settings = loadSettings({
        HOST: '127.0.0.1',
        PORT: '0',
        INGEST_PORT: '0',
        OPS_PORT: '0',
        // The gateway and an ingestion service started apart by a suite reach each other with it.
        INGEST_TOKEN: 'test-ingest-token-0123456789',
        MONGODB_DB: harness.mongo.dbName,
        LOG_LEVEL: 'silent',
        // The scheduled reconciliation runs where a suite asks for it (test/reconcile.test.ts), not in every one.
        RECONCILE_INTERVAL_SECONDS: '0',
        // Webhook receivers in tests listen on 127.0.0.1, and no test looks up or reaches another host.
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        ...env,
        ...extra,
      });
      const system = await startSystem({
        settings,
        logger: overrides.logger ?? createLogger('silent'),
        roles,
        mongoUri: overrides.mongoUri ?? mongoUri!,
        databaseUrl: overrides.databaseUrl ?? harness.pg.url,
      });
      cleanups.push(() => system.stop());
      return system;
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
    stop: stopAll,
    async reset() {
      await stopAll();
      const collections = await harness.mongo.db.listCollections({}, { nameOnly: true }).toArray();
      await Promise.all(collections.map(({ name }) => harness.mongo.db.collection(name).deleteMany({})));
      await truncateAll(harness.pg);
    },
  };

  beforeAll(async () => {
    [pg, mongo] = await Promise.all([createTestPostgres(), createTestMongo()]);
  });
  if (resetAfterEach) afterEach(() => harness.reset());
  afterAll(async () => {
    await stopAll();
    await mongo?.drop();
    await pg?.drop();
  });
  return harness;
}
