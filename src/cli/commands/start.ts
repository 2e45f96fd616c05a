// prismo start (npm start): everything in one process, on embedded databases where none is configured.
import type { Command } from '../context.js';
import { resolveApiKeys, resolveMongoForStart, resolvePostgres } from '../resolve.js';
import { runServices } from './serve.js';

export const startCommand: Command = async (context) => {
  const { settings, logger, cleanups } = context;
  // Both start at once; settled rather than raced, so a failure of one still leaves the other's stop
  // registered before the cleanup runs.
  const [mongoResult, postgresResult] = await Promise.allSettled([
    resolveMongoForStart(settings, logger, cleanups),
    resolvePostgres(settings, logger, cleanups),
  ]);
  if (mongoResult.status === 'rejected') throw mongoResult.reason;
  if (postgresResult.status === 'rejected') throw postgresResult.reason;
  const [mongo, postgres] = [mongoResult.value, postgresResult.value];
  const apiKeys = await resolveApiKeys(settings, logger);
  // Development: a webhook receiver on this machine is what one tries first.
  const webhooks = { ...settings.webhooks, allowPrivateUrls: settings.webhooks.allowPrivateUrls ?? true };
  return runServices({ ...context, settings: { ...settings, webhooks } }, ['gateway', 'ingest', 'processor', 'deliverer'], {
    mongoUri: mongo.url,
    databaseUrl: postgres.url,
    apiKeys,
    started: { mongo, postgres },
  });
};
