// Applies the SQL files in src/db/migrations with node-pg-migrate; idempotent and guarded by its
// advisory lock, so several services starting at once cannot race.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../config/logger.js';
import { PG_KEEPALIVE_DELAY_MS } from './postgres.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Runs pending migrations (or, given `down`, undoes that many of the latest); returns the names run this time
 * (empty when already current). No
 * statement_timeout here: a migration may rewrite a large table, and waits its turn on the advisory lock
 * behind another service's; it runs once per release, watched by whoever deploys it. The connection has its
 * deadline (PG_CONNECT_TIMEOUT_MS) and keep-alive, so a server that is away or vanishes still fails it.
 */
export async function migrate(databaseUrl: string, logger?: Logger, connectMs = 5_000, down?: number): Promise<string[]> {
  // Our own client rather than node-pg-migrate's: it has the limits, and a listener for an error that reaches
  // it idle (the server ending it), which would otherwise be thrown out of the process.
  const client = new pg.Client({
    connectionString: databaseUrl,
    connectionTimeoutMillis: connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_DELAY_MS,
  });
  client.on('error', (error) => logger?.warn({ component: 'migrate', err: error }, 'the migration connection failed'));
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      // `down`: undo the last `down` migrations applied, each by its file's "-- Down Migration" half (a
      // rollback: docs/operations.md, "Upgrades and rollback").
      direction: down ? 'down' : 'up',
      ...(down ? { count: down } : {}),
      migrationsTable: 'pgmigrations',
      checkOrder: true,
      singleTransaction: true,
      // Services starting together (two processors, a gateway) take turns: the default ('fail') made all but
      // the first exit at start-up with "Another migration is already running".
      advisoryLockMode: 'wait',
      log: (message: string) => logger?.debug({ component: 'migrate' }, message),
    });
    return applied.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}
