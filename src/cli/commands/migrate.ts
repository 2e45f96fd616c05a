// prismo migrate: applies pending PostgreSQL migrations (a no-op when current), after copying into MongoDB
// (MONGODB_URI) the API keys and idempotency records that PostgreSQL still holds from before they moved.
import type { Command } from '../context.js';
import { migrateDatabase } from '../migrate-database.js';
import { resolvePostgres } from '../resolve.js';

export const migrateCommand: Command = async ({ settings, logger, cleanups }) => {
  const { url } = await resolvePostgres(settings, logger, cleanups);
  const applied = await migrateDatabase(
    url,
    { uri: settings.mongo.uri, dbName: settings.mongo.dbName },
    logger,
    settings.postgres.timeouts.connectMs,
  );
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database already current');
  return 'done';
};
