// prismo serve --role …, prismo process, and the running half of prismo start: checks the servers answer,
// migrates, starts the system, and drains it on SIGTERM/SIGINT.
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ApiKeyEntry } from '../../gateway/api-keys.js';
import { type Command, type CommandContext, StartupError } from '../context.js';
import { migrateDatabase } from '../migrate-database.js';
import { checkReachable, type Resolved, runtimeFile } from '../resolve.js';
import { type Role, type System, startSystem } from '../system.js';

const ROLES: Role[] = ['gateway', 'ingest', 'processor', 'deliverer'];

export interface Servers {
  mongoUri?: string;
  databaseUrl?: string;
  apiKeys?: ApiKeyEntry[];
  /** Set by `start`: the embedded servers it resolved, for the ready block and runtime.json. */
  started?: { mongo: Resolved; postgres: Resolved };
}

export async function runServices(context: CommandContext, roles: Role[], servers: Servers): Promise<'running'> {
  const { settings, logger } = context;
  const { mongoUri, databaseUrl, started } = servers;
  // PostgreSQL is the processor's to reach and migrate before it starts. A gateway only reads from it, and
  // accepts without it: started during an outage, it answers reads 503 until PostgreSQL is back.
  const processes = roles.includes('processor');
  // A deliverer needs PostgreSQL alone (and waits for the processor's migrations, saying so on /readyz).
  const needsMongo = roles.some((role) => role !== 'deliverer');
  await checkReachable(needsMongo ? mongoUri : undefined, processes || roles.includes('deliverer') ? databaseUrl : undefined, settings);
  if (processes && databaseUrl)
    await migrateDatabase(databaseUrl, { uri: mongoUri, dbName: settings.mongo.dbName }, logger, settings.postgres.timeouts.connectMs);

  const system = await startSystem({
    settings,
    logger,
    roles,
    mongoUri,
    databaseUrl,
    apiKeys: servers.apiKeys,
    mongoNotice: started?.mongo.notice,
  });
  logger.info({ roles, gateway: system.gatewayUrl, ingest: system.ingestUrl, ops: system.opsUrl }, 'prismo is running');
  if (started && system.gatewayUrl) await announceReady(context, system, { mongoUri, started });
  drainOnSignals(context, system);
  return 'running';
}

/** `prismo start`'s ready block, and runtime.json for the commands that find the running servers. */
async function announceReady(
  { settings, cleanups }: CommandContext,
  system: System,
  { mongoUri, started }: { mongoUri?: string; started: NonNullable<Servers['started']> },
): Promise<void> {
  const file = runtimeFile(settings);
  await writeFile(file, `${JSON.stringify({ pid: process.pid, mongoUri, mongoNotice: started.mongo.notice })}\n`, { mode: 0o600 });
  cleanups.push(() => rm(file, { force: true }));
  const keys = settings.gateway.apiKeys?.length
    ? 'from API_KEYS'
    : `${join(resolve(settings.dataDir), 'dev-api-key')}   (tenant "dev"; send it as Authorization: Bearer <key>)`;
  console.error(
    [
      '',
      `  prismo is ready`,
      `  API         ${system.gatewayUrl}/api/v1/transactions   (docs: ${system.gatewayUrl}/docs)`,
      `  health      ${system.gatewayUrl}/readyz, ${system.opsUrl}/metrics   (the ops port: keep it private)`,
      `  board       ${system.gatewayUrl}/board   (an admin key: npx prismo keys create --tenant dev --scopes admin)`,
      `  API keys    ${keys}`,
      `  PostgreSQL  ${started.postgres.description}`,
      `  MongoDB     ${started.mongo.description}`,
      `  stop        Ctrl-C (drains for up to ${settings.processor.shutdownTimeoutMs} ms)`,
      '',
    ].join('\n'),
  );
}

/** SIGTERM or SIGINT: stop the system (its drain), run the cleanups, exit. */
function drainOnSignals({ logger, cleanups }: CommandContext, system: System): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void system
      .stop()
      .then(async () => {
        for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'cleanup failed'));
      })
      .then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

export const serveCommand: Command = async (context) => {
  const requested = (context.values.role ?? '').split(',').filter(Boolean);
  const roles = [...new Set(requested.flatMap((role) => (role === 'all' ? ROLES : [role])))] as Role[];
  const unknown = roles.filter((role) => !ROLES.includes(role));
  if (roles.length === 0 || unknown.length)
    throw new StartupError(`--role must list gateway, ingest, processor, deliverer or all (got "${context.values.role ?? ''}")`);
  const { settings } = context;
  return runServices(context, roles, {
    mongoUri: settings.mongo.uri,
    databaseUrl: settings.postgres.url,
    apiKeys: settings.gateway.apiKeys,
  });
};

export const processCommand: Command = (context) => serveCommand({ ...context, values: { ...context.values, role: 'processor' } });
