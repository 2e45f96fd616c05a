// What every benchmark scenario needs: real databases on loopback (DATABASE_URL / MONGODB_URI, else an
// embedded PostgreSQL and the test ladder's MongoDB), fresh databases per scenario, and statistics.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Role, type System, startSystem } from '../src/cli/system.js';
import { loadSettings } from '../src/config/config.js';
import { createLogger } from '../src/config/logger.js';
import { migrate } from '../src/db/migrate.js';
import { connectPostgres, type Database, withDatabase } from '../src/db/postgres.js';
import { resolveMongo } from '../src/dev/mongo-resolver.js';
import { connectMongo, ensureMongoIndexes, type MongoConnection } from '../src/raw-store/collections.js';
import { processorNodeOptions } from '../test/support/compose.js';
import { peakRssMiB } from '../test/support/peak-rss.js';
import { startThrowawayPostgres } from '../test/support/throwaway-postgres.js';
import { profileFlags } from './cpu-profiles.js';

export { processorNodeOptions };

/** A process's peak RSS (VmHWM) in MiB to one decimal, as the report prints it; 0 once it has gone (a sample of a maximum). */
const peakOf = async (pid: number) => Math.round((await peakRssMiB(pid).catch(() => 0)) * 10) / 10;

export interface BenchEnv {
  pgServerUrl: string;
  pgVersion: string;
  mongoUri: string;
  mongoKind: string;
  mongoVersion: string;
  stop(): Promise<void>;
}

export async function startBenchEnv(env: {
  DATABASE_URL?: string;
  MONGODB_URI?: string;
  MONGOMS_SYSTEM_BINARY?: string;
}): Promise<BenchEnv> {
  const stops: Array<() => Promise<unknown>> = [];
  let pgServerUrl = env.DATABASE_URL;
  if (!pgServerUrl) {
    const server = await startThrowawayPostgres('prismo-bench-pg-');
    pgServerUrl = server.url;
    stops.push(server.stop);
  }
  const { mongo, reasons } = await resolveMongo({ uri: env.MONGODB_URI, testcontainers: true });
  if (!mongo) throw new Error(`no MongoDB for the benchmarks: ${reasons.join('; ')}`);
  stops.push(mongo.stop);
  const admin = connectPostgres(pgServerUrl, { max: 1 });
  const pgVersion = (await admin.one<{ server_version: string }>('SHOW server_version')).server_version;
  await admin.$pool.end();
  const probe = await connectMongo(mongo.uri, 'admin');
  const info = await probe.db.command({ buildInfo: 1 }).catch(() => ({ version: 'unknown' }));
  await probe.close();
  return {
    pgServerUrl,
    pgVersion,
    mongoUri: mongo.uri,
    mongoKind: mongo.kind,
    mongoVersion: String(info.version),
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

export interface Databases {
  pgUrl: string;
  db: Database;
  mongo: MongoConnection;
  mongoDb: string;
  drop(): Promise<void>;
}

/** Each transaction row's raw id and commit time in epoch ms (created_at: clock_timestamp() in the inserting statement). */
export const rowsCommitted = (db: Database) =>
  db.any<{ raw_id: string; ms: number }>('SELECT raw_id, (extract(epoch FROM created_at) * 1000)::float8 AS ms FROM transactions');

/** A fresh, migrated PostgreSQL database and MongoDB database for one scenario. */
export async function freshDatabases(env: BenchEnv, label: string): Promise<Databases> {
  const name = `bench_${label}_${randomBytes(3).toString('hex')}`;
  const admin = connectPostgres(env.pgServerUrl, { max: 1 });
  await admin.none('CREATE DATABASE $1:name', [name]);
  const pgUrl = withDatabase(env.pgServerUrl, name);
  await migrate(pgUrl);
  const db = connectPostgres(pgUrl, { max: 10 });
  const mongo = await connectMongo(env.mongoUri, name);
  await ensureMongoIndexes(mongo);
  return {
    pgUrl,
    db,
    mongo,
    mongoDb: name,
    drop: async () => {
      await db.$pool.end();
      await mongo.db.dropDatabase().catch(() => undefined);
      await mongo.close();
      await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
      await admin.$pool.end();
    },
  };
}

export const BENCH_API_KEY = 'bench-key-0123456789abcdef';

/** The system on loopback ports, silent, with rate limits out of the way of the load generator. */
export function startBenchSystem(env: BenchEnv, dbs: Databases, roles: Role[], knobs: Record<string, string> = {}): Promise<System> {
  const settings = loadSettings({
    ...knobs,
    HOST: '127.0.0.1',
    PORT: '0',
    INGEST_PORT: '0',
    // Every process runs an ops server now: several systems of one run must not share 9464.
    OPS_PORT: '0',
    API_KEYS: `bench:${BENCH_API_KEY}`,
    MONGODB_DB: dbs.mongoDb,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  });
  return startSystem({ settings, logger: createLogger('silent'), roles, mongoUri: env.mongoUri, databaseUrl: dbs.pgUrl });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** The middle value; for an even count the mean of the two middle ones (not the lower: that flatters). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** process.memoryUsage() in MiB, as bench/memory-probe.mjs writes it. */
type MemoryFields = Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>;
export interface MemoryProbe {
  atPeakRss: MemoryFields;
  peaks: MemoryFields;
}

/** A processor's batch totals from its log. */
export interface BatchTotals {
  count: number;
  candidates: number;
  claimed: number;
  processed: number;
}

/** The batches between two readings of a processor's totals. */
export const batchesSince = (before: BatchTotals, now: BatchTotals): BatchTotals => ({
  count: now.count - before.count,
  candidates: now.candidates - before.candidates,
  claimed: now.claimed - before.claimed,
  processed: now.processed - before.processed,
});

/** How many batches, and their mean size in documents processed. */
export const formatBatches = (batches: BatchTotals) =>
  `${batches.count}, ${batches.count > 0 ? (batches.processed / batches.count).toFixed(1) : '-'} documents each on average`;

/**
 * `prismo process`, the compiled processor as it runs in production, in its own process: its peak RSS is
 * its own (not the harness's), and it has its own event loop, as a deployment's processors do. Resolves
 * once it says it runs; `stop()` sends SIGTERM (the processor drains) and returns the peak RSS in MiB (VmHWM)
 * and what bench/memory-probe.mjs saw inside the process: the sample of highest RSS and each field's peak;
 * and its batches' totals from its log (ids a claim was offered, documents it got, documents processed).
 */
export async function spawnProcessor(env: BenchEnv, dbs: Databases, worker: string, knobs: Record<string, string>) {
  // Node and V8 flags for the processor alone: as deployed (docker-compose.yml) unless PROCESSOR_NODE_OPTIONS
  // says otherwise (empty: V8's defaults; --cpu-prof; docs/benchmarks.md).
  const flags = processorNodeOptions().split(/\s+/).filter(Boolean);
  const probeFile = join(tmpdir(), `prismo-memory-${process.pid}-${worker}-${randomBytes(3).toString('hex')}.json`);
  const probe = ['--import', pathToFileURL(join(ROOT, 'bench/memory-probe.mjs')).href];
  const profile = profileFlags(`processor-${worker}`);
  const child = spawn(process.execPath, [...flags, ...profile, ...probe, join(ROOT, 'bin/prismo.js'), 'process'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...knobs,
      MONGODB_URI: env.mongoUri,
      MONGODB_DB: dbs.mongoDb,
      DATABASE_URL: dbs.pgUrl,
      WORKER_ID: worker,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      NODE_OPTIONS: '', // not the harness's
      PRISMO_MEMORY_PROBE: probeFile,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let peakMiB = 0;
  const sampler = setInterval(async () => (peakMiB = Math.max(peakMiB, await peakOf(child.pid!))), 500);
  // Its batches, from its log: how many, ids offered to claims, documents claimed, documents processed.
  const batches: BatchTotals = { count: 0, candidates: 0, claimed: 0, processed: 0 };
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.includes('"prismo is running"')) resolve();
      if (!line.includes('"batch done"')) return;
      const batch = JSON.parse(line) as { candidates: number; claimed: number; processed: number };
      batches.count += 1;
      batches.candidates += batch.candidates;
      batches.claimed += batch.claimed;
      batches.processed += batch.processed;
    });
    exited.then((code) => reject(new Error(`prismo process exited with ${code} before it ran`)));
  });
  return {
    /** Its batches so far (live counters: copy them to compare two moments). */
    batches,
    async stop() {
      peakMiB = Math.max(peakMiB, await peakOf(child.pid!));
      clearInterval(sampler);
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`prismo process exited with ${code} on SIGTERM`);
      const memory = JSON.parse(await readFile(probeFile, 'utf8')) as MemoryProbe;
      await rm(probeFile, { force: true });
      return { peakMiB, memory, batches };
    },
  };
}

/**
 * `prismo serve --role deliverer`, compiled, in its own process, on PostgreSQL alone; receivers on this
 * machine allowed (the benchmark's receiver listens on 127.0.0.1). Resolves once it says it runs.
 */
export async function spawnDeliverer(dbs: Databases, worker: string) {
  const child = spawn(process.execPath, [...profileFlags(worker), join(ROOT, 'bin/prismo.js'), 'serve', '--role', 'deliverer'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: dbs.pgUrl,
      WORKER_ID: worker,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('"prismo is running"') && resolve());
    exited.then((code) => reject(new Error(`prismo serve --role deliverer exited with ${code} before it ran`)));
  });
  return {
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the deliverer exited with ${code} on SIGTERM`);
    },
  };
}
