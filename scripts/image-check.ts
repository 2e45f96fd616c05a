// The image as it is deployed, checked in CI after scripts/image-check.sh has built it: its containers
// (migrate; gateway with ingestion; two processors; a deliverer) on the host's network, against this machine's
// databases on loopback (an embedded PostgreSQL, the development MongoDB), each listening on 127.0.0.1 only.
// A POST is processed, a batch of 1,000 becomes 1,000 rows, the two processors (same host name, both pid 1)
// are two members owning disjoint slots, every HEALTHCHECK turns healthy, `docker stop` exits 0; all of it
// on a read-only root file system, since no role writes a file (docs/operations.md, "The image").
// Usage: tsx scripts/image-check.ts <image>   (DOCKER: the docker command; DOCKER_HOST as for docker)
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { connectPostgres } from '../src/db/postgres.js';
import { startStandIn } from '../src/dev/mongo-resolver.js';
import { connectMongo, type MongoConnection } from '../src/raw-store/collections.js';
import { freePort, startThrowawayPostgres } from '../test/support/throwaway-postgres.js';
import { waitFor } from '../test/support/wait-for.js';

const image = process.argv[2] ?? '';
if (!image) throw new Error('usage: tsx scripts/image-check.ts <image>');
const DOCKER = process.env.DOCKER || 'docker';
const KEY = `image-check-${Date.now()}-key`;
const run = `prismo-check-${process.pid}`;
const started: string[] = [];

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(DOCKER, args, { maxBuffer: 64 * 2 ** 20 });
  return stdout.trim();
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`image check failed: ${what}`);
  console.log(`ok: ${what}`);
}

const envArgs = (env: Record<string, string>) => Object.entries(env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);

/** A detached container of the image on the host network; the health check asked every 2 s, not 10. */
async function startContainer(name: string, env: Record<string, string>, command: string[]): Promise<string> {
  await docker(
    'run',
    '-d',
    '--name',
    `${run}-${name}`,
    '--network',
    'host',
    '--read-only',
    '--health-interval',
    '2s',
    ...envArgs(env),
    image,
    ...command,
  );
  started.push(`${run}-${name}`);
  return `${run}-${name}`;
}

const health = (container: string) => docker('inspect', '-f', '{{.State.Health.Status}}', container);

async function startServices(base: Record<string, string>) {
  const [port, ingestPort, ...ops] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  await docker('run', '--rm', '--network', 'host', '--read-only', ...envArgs(base), image, 'migrate');
  check(true, '`prismo migrate` in a container exits 0');
  const gatewayEnv = { ...base, PORT: String(port), INGEST_PORT: String(ingestPort), OPS_PORT: String(ops[0]), API_KEYS: `acme:${KEY}` };
  const containers = {
    gateway: await startContainer('gateway', gatewayEnv, ['serve', '--role', 'gateway,ingest']),
    processors: [
      await startContainer('processor-1', { ...base, OPS_PORT: String(ops[1]) }, ['serve', '--role', 'processor']),
      await startContainer('processor-2', { ...base, OPS_PORT: String(ops[2]) }, ['serve', '--role', 'processor']),
    ],
    // No OPS_PORT: its role's own (9465), which the HEALTHCHECK finds from the container's command line.
    deliverer: await startContainer('deliverer', base, ['serve', '--role', 'deliverer']),
  };
  const all = [containers.gateway, ...containers.processors, containers.deliverer];
  for (const container of all)
    await waitFor(`${container} healthy`, async () => (await health(container)) === 'healthy', { timeoutMs: 120_000, intervalMs: 500 });
  check(true, `HEALTHCHECK healthy in all four, each on a read-only root: ${all.join(', ')}`);
  return { api: `http://127.0.0.1:${port}/api/v1`, all, processors: containers.processors };
}

async function post(url: string, body: unknown): Promise<{ status: number; json: { id?: string } }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as { id?: string } };
}

const item = (i: number) => ({
  source: 'generic',
  externalId: `image-${i}`,
  payload: { account: `acc-${i % 7}`, amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
});

/** The README's POST, then its status until processed; a batch of 1,000, then its rows. */
async function checkTraffic(api: string, pgUrl: string) {
  const single = await post(`${api}/transactions`, item(0));
  check(single.status === 202, `POST /transactions answers 202 (${single.status})`);
  await waitFor(
    'the POST processed',
    async () => {
      const response = await fetch(`${api}/transactions/${single.json.id}`, { headers: { authorization: `Bearer ${KEY}` } });
      return response.ok && ((await response.json()) as { status?: string }).status === 'processed';
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  check(true, 'the POST is processed');
  const batch = await post(`${api}/transactions/batch`, { items: Array.from({ length: 1_000 }, (_, i) => item(i + 1)) });
  check(batch.status === 207, `a batch of 1,000 answers 207 (${batch.status})`);
  const pg = connectPostgres(pgUrl, { max: 1 });
  const rows = () => pg.one('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions');
  await waitFor('1,001 rows', async () => (await rows()).n >= 1_001, { timeoutMs: 120_000, intervalMs: 250 });
  const { n, d } = await rows();
  await pg.$pool.end();
  check(n === 1_001 && d === 1_001, `the batch is exact: ${n} rows, ${d} distinct documents for 1 + 1,000 items`);
}

/** Two members named for the same host and pid 1, then every slot's documents processed by one of them. */
async function checkSlots(mongo: MongoConnection, processors: string[]) {
  const members = (await mongo.members.find({}).toArray()).map((m) => m._id);
  check(members.length === 2, `two processor members: ${members.join(', ')}`);
  check(
    members.every((id) => id.startsWith(`${hostname()}-1-`)),
    `both named ${hostname()}-1-…: the old hostname-pid id would be one`,
  );
  // A row is committed before its document is marked and logged: the 1,001 rows seen do not yet mean 1,001 entries.
  await waitFor(
    'a processed entry for each of the 1,001 documents',
    async () => (await mongo.logs.countDocuments({ outcome: 'processed' })) >= 1_001,
    {
      timeoutMs: 60_000,
      intervalMs: 250,
    },
  );
  const logs = await mongo.logs.find({ outcome: 'processed' }, { projection: { rawId: 1, worker: 1 } }).toArray();
  const slotOf = new Map((await mongo.raw.find({}, { projection: { slot: 1 } }).toArray()).map((d) => [String(d._id), d.slot ?? 0]));
  const workersBySlot = new Map<number, Set<string>>();
  for (const log of logs)
    workersBySlot.set(slotOf.get(String(log.rawId))!, new Set([...(workersBySlot.get(slotOf.get(String(log.rawId))!) ?? []), log.worker]));
  const shared = [...workersBySlot.entries()].filter(([, workers]) => workers.size > 1).map(([slot]) => slot);
  const workers = new Set(logs.map((log) => log.worker));
  check(
    shared.length === 0 && workers.size === 2,
    `disjoint slots: ${workersBySlot.size} slots, each processed by one of ${workers.size} processors`,
  );
  for (const container of processors) {
    const shares = (await docker('logs', container)).split('\n').filter((line) => line.includes('hash slots shared out'));
    console.log(`  ${container}: ${shares.at(-1) ? JSON.stringify(JSON.parse(shares.at(-1)!), ['members', 'slots']) : 'no share logged'}`);
  }
}

/** SIGTERM through `docker stop`: every service drains and exits 0. */
async function checkStops(containers: string[]) {
  for (const container of containers) {
    const begun = Date.now();
    await docker('stop', '-t', '30', container);
    const code = await docker('inspect', '-f', '{{.State.ExitCode}}', container);
    check(code === '0', `docker stop ${container}: exit ${code} in ${((Date.now() - begun) / 1000).toFixed(1)} s`);
  }
}

async function main() {
  const pg = await startThrowawayPostgres('prismo-image-check-');
  const mongoServer = await startStandIn();
  const mongo = await connectMongo(mongoServer.uri, 'prismo');
  try {
    const base = { DATABASE_URL: pg.url, MONGODB_URI: mongoServer.uri, MONGODB_DB: 'prismo', HOST: '127.0.0.1' };
    const services = await startServices(base);
    const joined = new Date();
    await waitFor(
      'both processors renewed since all started',
      async () => (await mongo.members.countDocuments({ seenAt: { $gt: joined } })) === 2,
    );
    await checkTraffic(services.api, pg.url);
    await checkSlots(mongo, services.processors);
    await checkStops(services.all);
  } catch (error) {
    for (const container of started) console.log(`--- ${container}\n${await docker('logs', '--tail', '20', container).catch(() => '')}`);
    throw error;
  } finally {
    if (started.length > 0) await docker('rm', '-f', ...started).catch(() => '');
    await mongo.close();
    await mongoServer.stop();
    await pg.stop();
  }
}

await main();
