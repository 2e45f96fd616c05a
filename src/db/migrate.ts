// Applies the SQL files in src/db/migrations with node-pg-migrate; idempotent and guarded by its
// advisory lock, so several services starting at once cannot race.
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../config/logger.js';
import { PG_KEEPALIVE_DELAY_MS } from './postgres.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * The newest migration `--down` may not undo: undoing it would bring back the empty PostgreSQL key tables of
 * releases before API keys moved to MongoDB (every client 401), and undoing those before it drops the tables
 * that hold every row. A rollback past it is a restore from a backup (docs/operations.md).
 */
export const DOWN_FLOOR = '1732500000006_drop-postgres-key-tables';

/** Refuses a `--down` of more migrations than are applied after DOWN_FLOOR, naming those it may undo. */
async function refuseDownPastFloor(client: pg.Client, down: number): Promise<void> {
  const exists = await client.query<{ t: string | null }>("SELECT to_regclass('public.pgmigrations')::text AS t");
  const names = exists.rows[0]?.t
    ? (await client.query<{ name: string }>('SELECT name FROM pgmigrations WHERE name > $1 ORDER BY name DESC', [DOWN_FLOOR])).rows.map(
        (row) => row.name,
      )
    : [];
  if (down > names.length) {
    throw new Error(
      `--down ${down}: only ${names.length} applied migration(s) can be undone (${names.join(', ') || 'none'}); undoing ${DOWN_FLOOR} or older would drop the tables holding every row, so that rollback is a restore from a backup`,
    );
  }
}

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
    if (down) await refuseDownPastFloor(client, down);
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
