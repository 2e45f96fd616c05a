// prismo migrate: applies pending PostgreSQL migrations (a no-op when current), after copying into MongoDB
// (MONGODB_URI) the API keys and idempotency records that PostgreSQL still holds from before they moved.
import { type Command, StartupError } from '../context.js';
import { migrateDatabase } from '../migrate-database.js';
import { resolvePostgres } from '../resolve.js';

export const migrateCommand: Command = async ({ settings, logger, values, cleanups }) => {
  // --down N undoes the N latest migrations (a rollback to the release before them); never more than asked.
  const down = values.down === undefined ? undefined : Number(values.down);
  if (down !== undefined && !(Number.isInteger(down) && down >= 1 && down <= 100))
    throw new StartupError(`--down must be how many of the latest migrations to undo, 1-100 (got "${values.down}")`);
  const { url } = await resolvePostgres(settings, logger, cleanups);
  const ran = await migrateDatabase(
    url,
    { uri: settings.mongo.uri, dbName: settings.mongo.dbName },
    logger,
    settings.postgres.timeouts.connectMs,
    down,
  );
  if (down) logger.info({ undone: ran }, ran.length ? 'migrations undone' : 'no migration to undo');
  else logger.info({ applied: ran }, ran.length ? 'migrations applied' : 'database already current');
  return 'done';
};
