// Fault tests of the running system: the databases taken away mid-drain and given back, the change
// stream cut, a stale resume token. Each checks that every accepted document arrives exactly once.
import { ObjectId } from 'mongodb';
import { pino } from 'pino';
import type { Counter } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role, System } from '../src/cli/system.js';
import type { RawTransaction } from '../src/raw-store/collections.js';
import { newRawTransaction } from '../src/raw-store/insert.js';
import { mongoReal, mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { startTcpProxy, type TcpProxy, throughProxy } from './support/tcp-proxy.js';

const API_KEY = 'faults-key-0123456789abcdef';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capturingLogger() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

describe.skipIf(!mongoUri)('faults', () => {
  const sys = useSystem({
    API_KEYS: `acme:${API_KEY}`,
    POLL_INTERVAL_MS: '200',
    BATCH_MAX_WAIT_MS: '20',
    BATCH_MAX_SIZE: '100',
    RETRY_BASE_MS: '50',
    RETRY_MAX_MS: '500',
  });
  let pg: TestPostgres;
  let mongo: TestMongo;
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });

  function start(
    roles: Role[],
    env: Record<string, string>,
    { databaseUrl = pg.url, uri = mongoUri!, logger = capturingLogger().logger } = {},
  ): Promise<System> {
    return sys.start(roles, env, { databaseUrl, mongoUri: uri, logger });
  }

  /** A counter's value as /metrics would show it: the processor's events feed it. */
  async function counted(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
    const { values } = await counter.get();
    return values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  }

  async function proxy(url: string): Promise<TcpProxy> {
    const target = new URL(url.replace(/^mongodb:/, 'http:').replace(/^postgres(ql)?:/, 'http:'));
    const p = await startTcpProxy(target.hostname, Number(target.port));
    sys.defer(() => p.close());
    return p;
  }

  const viaProxy = throughProxy;

  const post = (gatewayUrl: string, i: number) =>
    fetch(`${gatewayUrl}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({
        source: 'generic',
        payload: { account: `acc-${i % 7}`, amountMinor: i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
      }),
    }).then((response) => response.status);

  async function insertRaw(count: number, from = 0): Promise<void> {
    const docs = Array.from(
      { length: count },
      (_, i) =>
        newRawTransaction('acme', {
          source: 'generic',
          payload: { account: `acc-${(from + i) % 7}`, amountMinor: from + i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
        }) as RawTransaction,
    );
    await mongo.raw.insertMany(docs);
  }

  const rows = () => pg.db.one<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions');

  /** One line per fault test with the counts it checked, for the closing note. */
  async function report(name: string, accepted: number): Promise<void> {
    const { n, d } = await rows();
    const [failed, dead] = await Promise.all([
      mongo.raw.countDocuments({ status: 'failed' }),
      mongo.raw.countDocuments({ status: 'dead' }),
    ]);
    console.log(`[fault] ${name}: accepted=${accepted} rows=${n} duplicates=${n - d} failed=${failed} dead=${dead}`);
  }

  it('PostgreSQL down mid-drain: ingestion keeps answering 202, and after it returns everything drains once', async () => {
    const pgProxy = await proxy(pg.url);
    const { logger, lines } = capturingLogger();
    const system = await start(
      ['gateway', 'ingest', 'processor'],
      { WORKER_ID: 'pg-outage' },
      { databaseUrl: viaProxy(pg.url, pgProxy), logger },
    );

    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push(await post(system.gatewayUrl!, i));
    await waitFor('some rows before the outage', async () => (await rows()).n > 0);

    pgProxy.cut();
    for (let i = 300; i < 600; i++) statuses.push(await post(system.gatewayUrl!, i));
    await waitFor('a retried write during the outage', () =>
      lines.some((line) => line.msg.startsWith('transient failure') && line.stage === 'write'),
    );
    const duringOutage = (await rows()).n;
    expect(duringOutage).toBeLessThan(600);
    // The outage is no document's: the write stage retries without charging attempts, and says so.
    expect(await counted(system.metrics.stageRetries, { stage: 'write' })).toBeGreaterThan(0);
    const readiness = (await (await fetch(`${system.gatewayUrl}/readyz`)).json()) as { checks: Record<string, { detail?: string }> };
    expect(readiness.checks.stages?.detail).toMatch(/write retrying for \d+ s/);
    pgProxy.restore();

    await waitFor('600 processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 600, { timeoutMs: 60_000 });
    expect(statuses.filter((s) => s === 202)).toHaveLength(600);
    expect(await rows()).toEqual({ n: 600, d: 600 });
    expect(await mongo.raw.countDocuments({ status: { $in: ['failed', 'dead'] } })).toBe(0);
    expect(await mongo.raw.countDocuments({ attempts: { $gt: 0 } })).toBe(0);
    await waitFor('the write stage no longer retrying', async () => {
      const after = (await (await fetch(`${system.gatewayUrl}/readyz`)).json()) as { checks: Record<string, { detail?: string }> };
      return after.checks.stages?.detail === undefined;
    });
    await report('postgres-outage', statuses.filter((s) => s === 202).length);
  });

  it('MongoDB connections cut mid-run: the stream and the sweep recover and every document arrives once', async () => {
    const mongoProxy = await proxy(mongoUri!);
    const { logger, lines } = capturingLogger();
    const system = await start(['processor'], { WORKER_ID: 'mongo-outage' }, { uri: viaProxy(mongoUri!, mongoProxy), logger });

    await insertRaw(200);
    await waitFor('200 rows', async () => (await rows()).n === 200);
    mongoProxy.cut();
    await insertRaw(200, 200);
    await waitFor('the processor noticing', () => lines.some((line) => line.level >= 40));
    mongoProxy.restore();

    await waitFor('400 processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 400, { timeoutMs: 60_000 });
    expect(await rows()).toEqual({ n: 400, d: 400 });
    // The counters follow the log write that comes after the mark.
    await waitFor('the processor to count 400', async () => (await counted(system.metrics.outcomes, { outcome: 'processed' })) >= 400);
    await report('mongo-connections-cut', 400);
  });

  it('a stale resume token at start is given up with a warning, and the sweep delivers everything', async () => {
    await mongo.checkpoints.insertOne({
      _id: 'default',
      resumeToken: { _data: '8200000001000000012B0229296E04' },
      worker: 'long-gone',
      at: new Date(Date.now() - 86_400_000),
    });
    await insertRaw(150);
    const { logger, lines } = capturingLogger();
    const system = await start(['processor'], { WORKER_ID: 'stale-token' }, { logger });
    await insertRaw(150, 150);

    await waitFor('300 rows', async () => (await rows()).n === 300, { timeoutMs: 60_000 });
    await waitFor('the warning', () => lines.find((line) => line.msg.startsWith('the resume token is unusable')));
    const warning = lines.find((line) => line.msg.startsWith('the resume token is unusable'))!;
    expect(warning.level).toBe(40);
    expect(warning.gapMs).toBeGreaterThanOrEqual(86_400_000);
    expect(await counted(system.metrics.streamRestarts)).toBe(1);
    // Once restarted from now, the stream delivers again.
    const [{ insertedId }] = [
      await mongo.raw.insertOne(
        newRawTransaction('acme', {
          source: 'generic',
          payload: { account: 'late', amountMinor: 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
        }) as RawTransaction,
      ),
    ];
    await waitFor('the late document', () => mongo.raw.findOne({ _id: new ObjectId(insertedId), processed: true }));
    expect(await rows()).toEqual({ n: 301, d: 301 });
    await report('stale-resume-token', 301);
  });

  it('a row PostgreSQL rejects is isolated from its batch: it alone fails, the rest commits', async () => {
    // A NUL escape in metadata passes MongoDB and the mapper, and PostgreSQL's jsonb refuses it (SQLSTATE 22P05).
    const docs = Array.from({ length: 99 }, (_, i) =>
      newRawTransaction('acme', {
        source: 'generic',
        payload: {
          account: 'a',
          amountMinor: i + 1,
          currency: 'USD',
          occurredAt: '2026-11-24T00:00:00Z',
          metadata: i === 42 ? { note: 'bad\u0000byte' } : { note: 'ok' },
        },
      }),
    ) as RawTransaction[];
    const { insertedIds } = await mongo.raw.insertMany(docs);
    const poison = insertedIds[42]!;
    await start(['processor'], { WORKER_ID: 'isolation', BATCH_MAX_SIZE: '100', BATCH_MAX_WAIT_MS: '200', MAX_ATTEMPTS: '1' });
    await waitFor('98 rows', async () => (await rows()).n === 98);
    const dead = await waitFor('the poison dead-lettered', () => mongo.raw.findOne({ _id: poison, status: 'dead' }));
    expect(dead.lastError).toMatch(/PostgreSQL rejected the row/);
    expect(await mongo.raw.countDocuments({ processed: true })).toBe(98);
    await report('poison-row-isolated', 99);
  });

  it.skipIf(!mongoReal)(
    'on a quiet collection the heartbeat keeps moving the stored resume token (real mongod only: the stand-in sends no post-batch tokens)',
    async () => {
      await start(['processor'], { WORKER_ID: 'heartbeat', CHECKPOINT_HEARTBEAT_MS: '100' });
      const first = await waitFor('a heartbeat checkpoint', () => mongo.checkpoints.findOne({ _id: 'default' }));
      await mongo.db.collection('unrelated').insertOne({ moving: 'the oplog' });
      await waitFor('a newer heartbeat checkpoint', async () => {
        const now = await mongo.checkpoints.findOne({ _id: 'default' });
        return now && JSON.stringify(now.resumeToken) !== JSON.stringify(first.resumeToken);
      });
    },
  );
});
