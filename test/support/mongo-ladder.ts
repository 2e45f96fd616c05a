// Resolves a MongoDB for the test run, in the order DEVELOPERS.md sets: MONGODB_URI; a real mongod via
// mongodb-memory-server; testcontainers where a Docker engine runs; the mongo-java-server stand-in.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startEmbeddedMongo } from '../../src/db/embedded-mongo.js';

export type MongoKind = 'env' | 'mongodb-memory-server' | 'testcontainers' | 'stand-in';

export interface ResolvedMongo {
  uri: string;
  kind: MongoKind;
  /** True for a real mongod; false for the stand-in, whose known gaps docs/testing.md lists. */
  real: boolean;
  stop(): Promise<void>;
}

const STAND_IN_DIR = fileURLToPath(new URL('../../tools/mongo-stand-in/', import.meta.url));
const STAND_IN_JAR = join(STAND_IN_DIR, 'target', 'mongo-stand-in-1.0.0.jar');

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

async function startStandIn(): Promise<ResolvedMongo> {
  if (!hasCommand('java') || spawnSync('mvn', ['-v'], { stdio: 'ignore' }).error) {
    throw new Error('java or mvn is not installed');
  }
  const sources = Math.max(newestSourceTime(join(STAND_IN_DIR, 'src')), statSync(join(STAND_IN_DIR, 'pom.xml')).mtimeMs);
  if (!existsSync(STAND_IN_JAR) || statSync(STAND_IN_JAR).mtimeMs < sources) {
    const build = spawnSync('mvn', ['-q', '-B', '-f', join(STAND_IN_DIR, 'pom.xml'), 'package', '-DskipTests'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`building the stand-in failed: ${(build.stdout + build.stderr).slice(-500)}`);
  }
  const classpath = `${STAND_IN_JAR}:${join(STAND_IN_DIR, 'target', 'lib', '*')}`;
  const javaArgs = [
    '-Xmx2g',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    // Clients closing their sockets is routine, not an error worth a stack trace in the test output.
    '-Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoExceptionHandler=off',
    // Ignored secondary indexes are a documented gap (docs/testing.md), not news on every run.
    '-Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.backend.AbstractMongoDatabase=error',
    '-cp',
    classpath,
    'cloud.prismo.standin.Launcher',
    '0',
  ];
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
    stop: async () => {
      child.stdin?.end();
      await withDeadline(new Promise((resolve) => child.once('exit', resolve)), 10_000, 'stopping the stand-in').catch(() => child.kill('SIGKILL'));
    },
  };
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
    stop: async () => {
      await container.stop();
    },
  };
}

/**
 * Walks the ladder; returns the first MongoDB that starts, or the reasons every rung failed.
 * `env` is the process environment, passed in so this module does not read it behind the caller's back.
 */
export async function resolveMongo(env: { MONGODB_URI?: string; MONGOMS_SYSTEM_BINARY?: string }): Promise<{ mongo?: ResolvedMongo; reasons: string[] }> {
  if (env.MONGODB_URI) {
    return { mongo: { uri: env.MONGODB_URI, kind: 'env', real: true, stop: async () => {} }, reasons: [] };
  }
  const reasons: string[] = ['MONGODB_URI: not set'];
  const rungs: Array<[string, () => Promise<ResolvedMongo>]> = [
    [
      'mongodb-memory-server',
      async () => {
        const handle = await withDeadline(startEmbeddedMongo(), 120_000, 'mongodb-memory-server');
        return { uri: handle.uri, kind: 'mongodb-memory-server', real: true, stop: handle.stop };
      },
    ],
    ['testcontainers', startTestcontainer],
    ['stand-in (mongo-java-server)', startStandIn],
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
