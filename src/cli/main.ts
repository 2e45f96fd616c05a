// The prismo command. `start` runs everything in one process on embedded databases where none is
// configured; `serve --role` runs one service for a scaled deployment; `migrate` applies migrations.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  (data in DATA_DIR/postgres); without MONGODB_URI a mongod through mongodb-memory-server if one can be
  had, else the development MongoDB (mongo-java-server, needs Java 17 + Maven), data in DATA_DIR/mongo.
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

/** What `start` runs on, for the ready block, /readyz and `prismo status`. */
interface Resolved {
  url: string;
  /** One phrase for the ready block: which server, and whether its data is kept. */
  description: string;
  notice?: string;
}

/** DATABASE_URL, or an embedded PostgreSQL kept under DATA_DIR/postgres between runs. */
async function resolvePostgres(config: Config, logger: Logger, cleanups: Cleanup[]): Promise<Resolved> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, description: `DATABASE_URL (${hostOf(config.DATABASE_URL)})` };
  // Another prismo command (say `npm start`) may already run it: use that one rather than a second.
  const shared = embeddedPostgresUrl(config.EMBEDDED_PG_PORT);
  const running = connectPostgres(shared, { max: 1 });
  const alreadyUp = await running.one('SELECT 1').then(
    () => true,
    () => false,
  );
  await running.$pool.end();
  if (alreadyUp) return { url: shared, description: `embedded PostgreSQL on port ${config.EMBEDDED_PG_PORT}, already running` };
  const server = await startEmbeddedPostgres({ dataDir: resolve(config.DATA_DIR, 'postgres'), port: config.EMBEDDED_PG_PORT, persistent: true }).catch(
    (error: unknown) => {
      throw new StartupError(`DATABASE_URL is unset and the embedded PostgreSQL could not start: ${(error as Error).message}`);
    },
  );
  cleanups.push(server.stop);
  logger.info({ dataDir: server.dataDir }, 'DATABASE_URL is unset: started an embedded PostgreSQL');
  return { url: server.url, description: `embedded PostgreSQL ${config.EMBEDDED_PG_PORT}, data kept in ${server.dataDir}` };
}

/** MONGODB_URI, or the first of a real mongod and the development MongoDB that starts, data under DATA_DIR/mongo. */
async function resolveMongoForStart(config: Config, logger: Logger, cleanups: Cleanup[]): Promise<Resolved> {
  if (config.MONGODB_URI) return { url: config.MONGODB_URI, description: `MONGODB_URI (${hostOf(config.MONGODB_URI)})` };
  const { resolveMongo, STAND_IN_NOTICE } = await import('../db/mongo-resolver.js');
  const dataDir = resolve(config.DATA_DIR, 'mongo');
  const { mongo, reasons } = await resolveMongo({ dataDir });
  if (!mongo) {
    throw new StartupError(
      `MONGODB_URI is unset and no MongoDB could be started (${reasons.slice(1).join('; ')}). ` +
        'Set MONGODB_URI to a MongoDB replica set, or install Java 17 and Maven (Debian: apt-get install openjdk-17-jre-headless maven) for the development MongoDB.',
    );
  }
  cleanups.push(mongo.stop);
  const kept = mongo.persistent ? `data kept in ${dataDir}` : 'data not kept';
  if (mongo.kind === 'stand-in') {
    const line = '!'.repeat(STAND_IN_NOTICE.length + 8);
    console.error(`\n${line}\n!!! ${STAND_IN_NOTICE} !!!\n${line}\n`);
    logger.warn({ reasons: reasons.slice(1) }, 'no mongod could be had: running on the development MongoDB');
    return { url: mongo.uri, description: `${STAND_IN_NOTICE}; ${kept}`, notice: STAND_IN_NOTICE };
  }
  logger.info({ dataDir }, 'MONGODB_URI is unset: started an embedded mongod replica set');
  return { url: mongo.uri, description: `embedded mongod (mongodb-memory-server), ${kept}` };
}

/** The host of a connection URL, without credentials, for messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host || url.replace(/^[a-z+]+:\/\/([^@/]*@)?/, '').split(/[/?]/)[0]!;
  } catch {
    return '(unparsable URL)';
  }
}

/** Fails start-up with one line naming the variable and host when a configured server does not answer. */
async function checkReachable(mongoUri: string | undefined, databaseUrl: string | undefined, config: Config): Promise<void> {
  if (databaseUrl) {
    const db = connectPostgres(databaseUrl, { max: 1 });
    try {
      await db.one('SELECT 1');
    } catch (error) {
      const variable = config.DATABASE_URL ? 'DATABASE_URL' : 'the embedded PostgreSQL';
      throw new StartupError(`${variable}: cannot reach PostgreSQL at ${hostOf(databaseUrl)}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await db.$pool.end();
    }
  }
  if (mongoUri) {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db('admin').command({ ping: 1 });
    } catch (error) {
      const variable = config.MONGODB_URI ? 'MONGODB_URI' : 'the embedded MongoDB';
      throw new StartupError(`${variable}: cannot reach MongoDB at ${hostOf(mongoUri)}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await client.close();
    }
  }
}

/** Where `start` tells other prismo commands (status, replay) which MongoDB it runs on. */
const runtimeFile = (config: Config) => join(resolve(config.DATA_DIR), 'runtime.json');

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
  const logger = createLogger(config.LOG_LEVEL, 'prismo', config.LOG_FORMAT);
  const cleanups: Cleanup[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => logger.error({ err: error }, 'cleanup failed'));
  };

  try {
    if (command === 'migrate') {
      const { url } = await resolvePostgres(config, logger, cleanups);
      const applied = await migrate(url, logger);
      logger.info({ applied }, applied.length ? 'migrations applied' : 'database already current');
      await cleanUp();
      return;
    }

    if (command === 'keys') {
      const { url } = await resolvePostgres(config, logger, cleanups);
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
      // Without MONGODB_URI, the MongoDB a running `prismo start` (npm start) uses, as it recorded.
      const running = config.MONGODB_URI
        ? undefined
        : await readFile(runtimeFile(config), 'utf8').then((text) => JSON.parse(text) as { mongoUri: string; mongoNotice?: string }, () => undefined);
      const mongoUri = config.MONGODB_URI ?? running?.mongoUri;
      if (!mongoUri) throw new StartupError(`MONGODB_URI is not set and no \`prismo start\` is running here: ${command} works on the MongoDB holding raw_transactions`);
      if (running?.mongoNotice) console.error(`note: ${running.mongoNotice}`);
      const mongo = await connectMongo(mongoUri, config.MONGODB_DB).catch((error: unknown) => {
        throw new StartupError(`cannot reach MongoDB at ${hostOf(mongoUri)}: ${(error as Error).message.split('\n')[0]}`);
      });
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
          const mongodb = running?.mongoNotice ?? (config.MONGODB_URI ? `MONGODB_URI (${hostOf(config.MONGODB_URI)})` : 'the MongoDB of the running prismo start');
          console.log(values.json ? JSON.stringify({ ...status, mongodb }, null, 2) : `${formatStatus(status)}\nmongodb: ${mongodb}`);
        }
      }
      await cleanUp();
      return;
    }

    let roles: Role[];
    let mongoUri = config.MONGODB_URI;
    let databaseUrl = config.DATABASE_URL;
    let apiKeys = config.API_KEYS;
    let started: { mongo: Resolved; postgres: Resolved } | undefined;
    if (command === 'start') {
      roles = ['gateway', 'ingest', 'processor'];
      // Both start at once; settled rather than raced, so a failure of one still leaves the other's stop
      // registered before the cleanup runs.
      const [mongoResult, postgresResult] = await Promise.allSettled([resolveMongoForStart(config, logger, cleanups), resolvePostgres(config, logger, cleanups)]);
      if (mongoResult.status === 'rejected') throw mongoResult.reason;
      if (postgresResult.status === 'rejected') throw postgresResult.reason;
      const [mongo, postgres] = [mongoResult.value, postgresResult.value];
      started = { mongo, postgres };
      mongoUri = mongo.url;
      databaseUrl = postgres.url;
      apiKeys = await resolveApiKeys(config, logger);
    } else if (command === 'serve' || command === 'process') {
      roles = (command === 'process' ? 'processor' : (values.role ?? '')).split(',').filter(Boolean).flatMap((role) => (role === 'all' ? ['gateway', 'ingest', 'processor'] : [role])) as Role[];
      roles = [...new Set(roles)];
      const unknown = roles.filter((role) => !['gateway', 'ingest', 'processor'].includes(role));
      if (roles.length === 0 || unknown.length) throw new StartupError(`--role must list gateway, ingest, processor or all (got "${values.role ?? ''}")`);
    } else {
      throw new StartupError(`unknown command "${command}"\n${USAGE}`);
    }
    await checkReachable(mongoUri, roles.some((role) => role !== 'ingest') ? databaseUrl : undefined, config);
    if ((roles.includes('processor') || roles.includes('gateway')) && databaseUrl) await migrate(databaseUrl, logger);

    const system = await startSystem({ config, logger, roles, mongoUri, databaseUrl, apiKeys, mongoNotice: started?.mongo.notice });
    logger.info({ roles, gateway: system.gatewayUrl, ingest: system.ingestUrl }, 'prismo is running');
    if (started && system.gatewayUrl) {
      await writeFile(runtimeFile(config), `${JSON.stringify({ pid: process.pid, mongoUri, mongoNotice: started.mongo.notice })}\n`, { mode: 0o600 });
      cleanups.push(() => rm(runtimeFile(config), { force: true }));
      const keys = config.API_KEYS?.length
        ? 'from API_KEYS'
        : `${join(resolve(config.DATA_DIR), 'dev-api-key')}   (tenant "dev"; send it as Authorization: Bearer <key>)`;
      console.error(
        [
          '',
          `  prismo is ready`,
          `  API         ${system.gatewayUrl}/api/v1/transactions   (docs: ${system.gatewayUrl}/docs)`,
          `  health      ${system.gatewayUrl}/readyz, ${system.gatewayUrl}/metrics`,
          `  API keys    ${keys}`,
          `  PostgreSQL  ${started.postgres.description}`,
          `  MongoDB     ${started.mongo.description}`,
          `  stop        Ctrl-C (drains for up to ${config.SHUTDOWN_TIMEOUT_MS} ms)`,
          '',
        ].join('\n'),
      );
    }

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
