// prismo migrate: applies pending PostgreSQL migrations (a no-op when current).
import { migrate } from '../../db/migrate.js';
import type { Command } from '../context.js';
import { resolvePostgres } from '../resolve.js';

export const migrateCommand: Command = async ({ settings, logger, cleanups }) => {
  const { url } = await resolvePostgres(settings, logger, cleanups);
  const applied = await migrate(url, logger);
  logger.info({ applied }, applied.length ? 'migrations applied' : 'database already current');
  return 'done';
};
