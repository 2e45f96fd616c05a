// Where the servers a command runs on come from: the configured URLs, or for `start` embedded ones kept
// under DATA_DIR; and the checks that turn an unreachable server into one line naming the variable.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Settings } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import { connectPostgres } from '../db/postgres.js';
import { type ApiKeyEntry, keyPrefix } from '../gateway/api-keys.js';
import { connectMongo, type MongoConnection } from '../raw-store/collections.js';
import { type Cleanup, StartupError } from './context.js';

/** What `start` runs on, for the ready block, /readyz and `prismo status`. */
export interface Resolved {
  url: string;
  /** One phrase for the ready block: which server, and whether its data is kept. */
  description: string;
  notice?: string;
}

/** A development module (src/dev/), which the production image does not ship; without it, `refusal` says why. */
async function devModule<T>(load: () => Promise<T>, refusal: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new StartupError(refusal);
  }
}

/** What a command that would start a development server says in the production image. */
const setInstead = (variable: string) =>
  `${variable} is unset, and this build carries no development servers (the production image): set ${variable}`;

/** DATABASE_URL, or an embedded PostgreSQL kept under DATA_DIR/postgres between runs. */
export async function resolvePostgres(settings: Settings, logger: Logger, cleanups: Cleanup[]): Promise<Resolved> {
  if (settings.postgres.url) return { url: settings.postgres.url, description: `DATABASE_URL (${hostOf(settings.postgres.url)})` };
  const { embeddedPostgresUrl, startEmbeddedPostgres } = await devModule(
    () => import('../dev/embedded-postgres.js'),
    setInstead('DATABASE_URL'),
  );
  // Another prismo command (say `npm start`) may already run it: use that one rather than a second.
  const shared = embeddedPostgresUrl(settings.postgres.embeddedPort);
  const running = connectPostgres(shared, { max: 1 });
  const alreadyUp = await running.one('SELECT 1').then(
    () => true,
    () => false,
  );
  await running.$pool.end();
  if (alreadyUp) return { url: shared, description: `embedded PostgreSQL on port ${settings.postgres.embeddedPort}, already running` };
  const server = await startEmbeddedPostgres({
    dataDir: resolve(settings.dataDir, 'postgres'),
    port: settings.postgres.embeddedPort,
    persistent: true,
  }).catch((error: unknown) => {
    throw new StartupError(`DATABASE_URL is unset and the embedded PostgreSQL could not start: ${(error as Error).message}`);
  });
  cleanups.push(server.stop);
  logger.info({ dataDir: server.dataDir }, 'DATABASE_URL is unset: started an embedded PostgreSQL');
  return { url: server.url, description: `embedded PostgreSQL ${settings.postgres.embeddedPort}, data kept in ${server.dataDir}` };
}

/** MONGODB_URI, or the first of a real mongod and the development MongoDB that starts, data under DATA_DIR/mongo. */
export async function resolveMongoForStart(settings: Settings, logger: Logger, cleanups: Cleanup[]): Promise<Resolved> {
  if (settings.mongo.uri) return { url: settings.mongo.uri, description: `MONGODB_URI (${hostOf(settings.mongo.uri)})` };
  const { resolveMongo, STAND_IN_NOTICE } = await devModule(() => import('../dev/mongo-resolver.js'), setInstead('MONGODB_URI'));
  const dataDir = resolve(settings.dataDir, 'mongo');
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
export function hostOf(url: string): string {
  try {
    return new URL(url).host || url.replace(/^[a-z+]+:\/\/([^@/]*@)?/, '').split(/[/?]/)[0]!;
  } catch {
    return '(unparsable URL)';
  }
}

/** Fails start-up with one line naming the variable and host when a configured server does not answer. */
export async function checkReachable(mongoUri: string | undefined, databaseUrl: string | undefined, settings: Settings): Promise<void> {
  if (databaseUrl) {
    const db = connectPostgres(databaseUrl, { max: 1, timeouts: settings.postgres.timeouts });
    try {
      await db.one('SELECT 1');
    } catch (error) {
      const variable = settings.postgres.url ? 'DATABASE_URL' : 'the embedded PostgreSQL';
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
      const variable = settings.mongo.uri ? 'MONGODB_URI' : 'the embedded MongoDB';
      throw new StartupError(`${variable}: cannot reach MongoDB at ${hostOf(mongoUri)}: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      await client.close();
    }
  }
}

/** Where `start` tells other prismo commands (status, replay) which MongoDB it runs on. */
export const runtimeFile = (settings: Settings) => join(resolve(settings.dataDir), 'runtime.json');

/** API_KEYS, or for `start` a development key kept in DATA_DIR/dev-api-key (mode 0600). */
export async function resolveApiKeys(settings: Settings, logger: Logger): Promise<ApiKeyEntry[]> {
  if (settings.gateway.apiKeys?.length) return settings.gateway.apiKeys;
  const file = join(resolve(settings.dataDir), 'dev-api-key');
  let key = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (key.length < 16) {
    key = `dev_${randomBytes(24).toString('base64url')}`;
    await mkdir(resolve(settings.dataDir), { recursive: true });
    await writeFile(file, `${key}\n`, { mode: 0o600 });
  }
  logger.warn(
    { file, tenantId: 'dev', keyPrefix: keyPrefix(key) },
    'API_KEYS is unset: using a development key for tenant "dev"; read it from the file',
  );
  return [{ tenantId: 'dev', key }];
}

/** MONGODB_URI, or the MongoDB a running `prismo start` (npm start) recorded in DATA_DIR/runtime.json. */
export async function connectRunningMongo(
  settings: Settings,
  command: string,
  cleanups: Cleanup[],
): Promise<{ mongo: MongoConnection; notice?: string }> {
  const running = settings.mongo.uri
    ? undefined
    : await readFile(runtimeFile(settings), 'utf8').then(
        (text) => JSON.parse(text) as { mongoUri: string; mongoNotice?: string },
        () => undefined,
      );
  const mongoUri = settings.mongo.uri ?? running?.mongoUri;
  if (!mongoUri)
    throw new StartupError(
      `MONGODB_URI is not set and no \`prismo start\` is running here: ${command} works on the MongoDB holding raw_transactions`,
    );
  if (running?.mongoNotice) console.error(`note: ${running.mongoNotice}`);
  const mongo = await connectMongo(mongoUri, settings.mongo.dbName).catch((error: unknown) => {
    throw new StartupError(`cannot reach MongoDB at ${hostOf(mongoUri)}: ${(error as Error).message.split('\n')[0]}`);
  });
  cleanups.push(() => mongo.close());
  return { mongo, notice: running?.mongoNotice };
}

export type { DataPlace } from '../dev/data-dirs.js';

/** `prismo data`'s look at what start keeps on disk (dev/data-dirs.ts): a development tool, not in the image. */
export const loadDataDirs = () =>
  devModule(
    () => import('../dev/data-dirs.js'),
    'this build carries no development servers (the production image): it keeps no data of its own',
  );
