// Finds a MongoDB in the one order `npm start`, the tests and the benchmarks share, our development MongoDB
// (the mongo-java-server stand-in) last.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startEmbeddedMongo } from './embedded-mongo.js';

export type MongoKind = 'env' | 'mongodb-memory-server' | 'testcontainers' | 'stand-in';

export interface ResolvedMongo {
  uri: string;
  kind: MongoKind;
  /** True for a real mongod; false for the stand-in, whose known gaps docs/testing.md lists. */
  real: boolean;
  /** Whether its data outlives this process (kept under the data directory asked for). */
  persistent: boolean;
  stop(): Promise<void>;
}

/** What every surface (start-up banner, /readyz, `prismo status`) says when the stand-in serves. */
export const STAND_IN_NOTICE = 'development MongoDB (mongo-java-server), not MongoDB: for production set MONGODB_URI to a replica set';

/** The package's root, whether this file runs from src/ (tsx) or from dist/src/ (the build). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'tools'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the prismo package root (with tools/) above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

const hasCommand = (command: string) => spawnSync(command, ['-version'], { stdio: 'ignore' }).error === undefined;

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function newestSourceTime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * The development MongoDB (tools/mongo-stand-in), built on first use. `upstream` runs mongo-java-server's
 * memory backend as published (no _id narrowing, no secondary indexes), to compare results and timings.
 */
export async function startStandIn(
  dataDir?: string,
  { upstream = false, ttlMonitorSeconds }: { upstream?: boolean; ttlMonitorSeconds?: number } = {},
): Promise<ResolvedMongo> {
  if (!hasCommand('java') || spawnSync('mvn', ['-v'], { stdio: 'ignore' }).error) {
    throw new Error('java or mvn is not installed (Debian: apt-get install openjdk-17-jre-headless maven)');
  }
  const standInDir = join(packageRoot(), 'tools', 'mongo-stand-in');
  const standInJar = buildStandIn(standInDir);
  const javaArgs = standInJavaArgs(standInDir, standInJar, { upstream, ttlMonitorSeconds });
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    javaArgs.push('--data', join(dataDir, 'mongo-stand-in.mv'));
  }
  const child: ChildProcess = spawn('java', javaArgs, {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const address = await withDeadline(
    new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`stand-in exited with code ${code} before listening`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('LISTENING ')) resolve(line.slice('LISTENING '.length));
      });
    }),
    60_000,
    'starting the stand-in',
  );
  return {
    uri: `mongodb://${address}/?directConnection=true`,
    kind: 'stand-in',
    real: false,
    persistent: dataDir !== undefined,
    stop: async () => {
      child.stdin?.end();
      await withDeadline(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'stopping the stand-in').catch(() =>
        child.kill('SIGKILL'),
      );
    },
  };
}

/** The stand-in's jar, built first when it is missing or older than its sources. */
function buildStandIn(standInDir: string): string {
  const standInJar = join(standInDir, 'target', 'mongo-stand-in-1.0.0.jar');
  const sources = Math.max(newestSourceTime(join(standInDir, 'src')), statSync(join(standInDir, 'pom.xml')).mtimeMs);
  if (!existsSync(standInJar) || statSync(standInJar).mtimeMs < sources) {
    const build = spawnSync('mvn', ['-q', '-B', '-f', join(standInDir, 'pom.xml'), 'package', '-DskipTests'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the stand-in failed: ${(build.stdout + build.stderr).slice(-500)}`);
  }
  return standInJar;
}

/** The JVM's arguments: heap, collector and log levels, the backend, and the port (0: any free one). */
function standInJavaArgs(
  standInDir: string,
  standInJar: string,
  { upstream, ttlMonitorSeconds }: { upstream: boolean; ttlMonitorSeconds?: number },
): string[] {
  const classpath = `${standInJar}:${join(standInDir, 'target', 'lib', '*')}`;
  return [
    // Enough heap for a 200,000-document drain with its logs and oplog window (the machines have 24 GiB).
    '-Xmx6g',
    // Short collector pauses. Everything the stand-in stores lives on its heap and survives, so with G1's
    // default goal (200 ms) each young pause copied hundreds of MB: pauses of 150-370 ms several times a
    // second under a drain, which no mongod has and which became every client's tail latency (docs/testing.md).
    // A 20 ms goal with the young generation allowed down to 1% of the heap keeps most pauses near 20 ms.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:+UnlockExperimentalVMOptions',
    '-XX:G1NewSizePercent=1',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    // Clients closing their sockets is routine, not an error worth a stack trace in the test output.
    '-Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoExceptionHandler=off',
    // Ignored secondary indexes are a documented gap (docs/testing.md), not news on every run.
    '-Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.backend.AbstractMongoDatabase=error',
    ...(upstream ? ['-Dstandin.upstream=true'] : []),
    // How often TTL indexes expire documents (mongod's ttlMonitorSleepSecs; 60 s unless asked).
    ...(ttlMonitorSeconds ? [`-Dstandin.ttlMonitorSeconds=${ttlMonitorSeconds}`] : []),
    '-cp',
    classpath,
    'cloud.prismo.standin.Launcher',
    '0',
  ];
}

async function startTestcontainer(): Promise<ResolvedMongo> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  await withDeadline(getContainerRuntimeClient(), 15_000, 'looking for a container runtime');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const container = await new MongoDBContainer('mongo:7').start();
  return {
    uri: `${container.getConnectionString()}?directConnection=true`,
    kind: 'testcontainers',
    real: true,
    persistent: false,
    stop: async () => {
      await container.stop();
    },
  };
}

export interface ResolveMongoOptions {
  /** MONGODB_URI: used as it is when set. */
  uri?: string;
  /** Keep the data here (mongod's dbPath, the stand-in's file); in memory when unset. */
  dataDir?: string;
  /** Try testcontainers before the stand-in (tests and benchmarks; `npm start` does not start containers). */
  testcontainers?: boolean;
  /** The stand-in's TTL monitor period (tests shorten mongod's 60 s to see retention happen). */
  ttlMonitorSeconds?: number;
}

/**
 * Walks the ladder; returns the first MongoDB that starts, or the reasons every rung failed.
 *
 * The order: MONGODB_URI; a real mongod through mongodb-memory-server (downloaded and cached, or
 * MONGOMS_SYSTEM_BINARY); testcontainers where a Docker engine runs (tests and benchmarks only); and last the
 * stand-in in tools/mongo-stand-in, built with Maven on first use and cached.
 */
export async function resolveMongo(options: ResolveMongoOptions): Promise<{ mongo?: ResolvedMongo; reasons: string[] }> {
  if (options.uri) {
    return { mongo: { uri: options.uri, kind: 'env', real: true, persistent: true, stop: async () => {} }, reasons: [] };
  }
  const reasons: string[] = ['MONGODB_URI: not set'];
  const rungs: Array<[string, () => Promise<ResolvedMongo>]> = [
    [
      'mongodb-memory-server',
      async () => {
        const dbPath = options.dataDir ? join(options.dataDir, 'mongod') : undefined;
        if (dbPath) mkdirSync(dbPath, { recursive: true });
        const handle = await withDeadline(startEmbeddedMongo({ dbPath }), 120_000, 'mongodb-memory-server');
        return { uri: handle.uri, kind: 'mongodb-memory-server', real: true, persistent: dbPath !== undefined, stop: handle.stop };
      },
    ],
    ...(options.testcontainers ? [['testcontainers', startTestcontainer] as [string, () => Promise<ResolvedMongo>]] : []),
    ['stand-in (mongo-java-server)', () => startStandIn(options.dataDir, { ttlMonitorSeconds: options.ttlMonitorSeconds })],
  ];
  for (const [name, start] of rungs) {
    try {
      return { mongo: await start(), reasons };
    } catch (error) {
      reasons.push(`${name}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
    }
  }
  return { reasons };
}
