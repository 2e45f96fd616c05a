// Migrates PostgreSQL, first copying into MongoDB the API keys and idempotency records that tables from
// before they moved still hold, since a migration drops those tables.
import type { Logger } from '../config/logger.js';
import { migrate } from '../db/migrate.js';
import { connectPostgres } from '../db/postgres.js';
import { acceptCollections, ensureAcceptIndexes } from '../gateway/accept-collections.js';
import { importAcceptStateFromPostgres } from '../gateway/import-from-postgres.js';
import { connectMongo } from '../raw-store/collections.js';
import { StartupError } from './context.js';

/**
 * Applies pending migrations; returns their names. Needs `mongo` only while the old key tables hold rows.
 * Without a statement timeout (db/migrate.ts says why), with the connection deadline of the settings.
 */
export async function migrateDatabase(
  databaseUrl: string,
  mongo: { uri?: string; dbName: string },
  logger: Logger,
  connectMs?: number,
  down?: number,
): Promise<string[]> {
  const db = connectPostgres(databaseUrl, {
    max: 1,
    applicationName: 'prismo-migrate',
    ...(connectMs ? { timeouts: { statementMs: 0, connectMs } } : {}),
  });
  try {
    // A table that no longer exists cannot even be named in a query: ask which exist, then count those.
    const tables = await db.map<string>(
      "SELECT t FROM unnest(ARRAY['api_keys', 'idempotency_keys']) AS t WHERE to_regclass(t) IS NOT NULL",
      [],
      (r) => r.t,
    );
    let rows = 0;
    for (const table of tables) rows += await db.one('SELECT count(*)::int AS n FROM $1:name', [table], (r) => r.n as number);
    if (rows > 0 && !down) {
      if (!mongo.uri) {
        throw new StartupError(
          'PostgreSQL still holds API keys or idempotency records from before they moved to MongoDB: set MONGODB_URI so that `prismo migrate` copies them there before it drops those tables',
        );
      }
      const connection = await connectMongo(mongo.uri, mongo.dbName);
      try {
        const accept = acceptCollections(connection.db);
        await ensureAcceptIndexes(accept);
        const imported = await importAcceptStateFromPostgres(db, accept);
        if (imported !== 'already-done') logger.info(imported, 'copied API keys and idempotency records from PostgreSQL into MongoDB');
      } finally {
        await connection.close();
      }
    }
  } finally {
    await db.$pool.end();
  }
  return migrate(databaseUrl, logger, connectMs, down);
}
