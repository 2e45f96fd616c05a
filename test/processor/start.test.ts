// The wired processor against real servers: each source alone delivers everything, several processors
// share a backlog without writing a row twice, and stop() drains.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/config/logger.js';
import { type Processor, startProcessor } from '../../src/processor/start.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from '../support/databases.js';
import { useSystem } from '../support/system.js';

describe.skipIf(!mongoUri)('startProcessor', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  const running: Processor[] = [];

  // The databases of the shared fixture; the processors are started here, without the rest of the system.
  const sys = useSystem({}, { resetAfterEach: false });
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await sys.reset();
  });

  async function start(env: Record<string, string>): Promise<Processor> {
    const settings = loadSettings({ BATCH_MAX_WAIT_MS: '20', BATCH_MAX_SIZE: '50', RETRY_BASE_MS: '20', LOG_LEVEL: 'silent', ...env });
    const processor = await startProcessor(mongo, pg.db, settings.processor, createLogger('silent'));
    running.push(processor);
    return processor;
  }

  async function insert(count: number, from = 0): Promise<void> {
    await mongo.raw.insertMany(
      Array.from(
        { length: count },
        (_, i) =>
          newRawTransaction('acme', {
            source: 'generic',
            payload: { account: `acc-${(from + i) % 5}`, amountMinor: from + i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
          }) as RawTransaction,
      ),
    );
  }

  const rows = () => pg.db.one('SELECT count(*)::int AS n, count(DISTINCT raw_id)::int AS d FROM transactions');

  it('the change stream alone delivers new documents (the sweep waits an hour)', async () => {
    await start({ POLL_INTERVAL_MS: '3600000', WORKER_ID: 'stream-only' });
    // The only sweep runs as the processor starts. A first wave processed means that sweep is behind us;
    // a second wave can then arrive through the change stream alone.
    await insert(10);
    await waitFor('the first wave', async () => (await rows()).n === 10);
    await insert(120, 10);
    await waitFor('130 rows', async () => (await rows()).n === 130);
    await waitFor('a checkpoint', () => mongo.checkpoints.findOne({ _id: 'default' }));
  });

  it('the sweep alone delivers everything when the change stream is off', async () => {
    await insert(150);
    await start({ CHANGE_STREAM: 'off', POLL_INTERVAL_MS: '100', WORKER_ID: 'sweep-only' });
    await insert(30, 150);
    await waitFor('180 rows', async () => (await rows()).n === 180);
    // Marks follow the commit.
    await waitFor('180 marked processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 180);
    expect(await mongo.checkpoints.countDocuments({})).toBe(0);
  });

  it.each([2, 3])('%i processors share one backlog, splitting the work and writing each row once', async (count) => {
    await insert(1_500);
    const workers = Array.from({ length: count }, (_, i) => `p${i + 1}`);
    await Promise.all(workers.map((worker) => start({ WORKER_ID: worker, POLL_INTERVAL_MS: '100', BATCH_CONCURRENCY: '2' })));
    await waitFor('1,500 processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 1_500, { timeoutMs: 60_000 });
    expect(await rows()).toEqual({ n: 1_500, d: 1_500 });
    // Log entries follow the marks.
    await waitFor('1,500 log entries', async () => (await mongo.logs.countDocuments({})) === 1_500);
    const byWorker = await mongo.logs.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$worker', n: { $sum: 1 } } }]).toArray();
    expect(byWorker.reduce((sum, w) => sum + w.n, 0)).toBe(1_500);
    // Work is split: more than one processor committed batches.
    expect(byWorker.length).toBeGreaterThanOrEqual(2);
    console.log(
      `[share] ${count} processors: ${byWorker
        .map((w) => `${w._id}=${w.n}`)
        .sort()
        .join(' ')}`,
    );
  });

  it('large documents are taken a byte budget at a time, and every one is processed', async () => {
    // 40 documents of ~100 KB under a 256 KiB budget: at most two per batch however many are offered.
    const note = 'x'.repeat(100_000);
    await mongo.raw.insertMany(
      Array.from(
        { length: 40 },
        (_, i) =>
          newRawTransaction('acme', {
            source: 'generic',
            payload: { account: 'acc-big', amountMinor: i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z', metadata: { note } },
          }) as RawTransaction,
      ),
    );
    await start({ WORKER_ID: 'budget', POLL_INTERVAL_MS: '100', BATCH_MAX_BYTES: String(256 * 1024) });
    await waitFor('40 processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 40, { timeoutMs: 60_000 });
    expect(await rows()).toEqual({ n: 40, d: 40 });
    await waitFor('40 log entries', async () => (await mongo.logs.countDocuments({})) === 40);
    const perBatch = await mongo.logs.aggregate<{ n: number }>([{ $group: { _id: '$batchId', n: { $sum: 1 } } }]).toArray();
    expect(Math.max(...perBatch.map((batch) => batch.n))).toBe(2);
  });

  it('stop() drains what it has taken and leaves no lease behind', async () => {
    await insert(400);
    const processor = await start({ WORKER_ID: 'drainer', POLL_INTERVAL_MS: '100', SHUTDOWN_TIMEOUT_MS: '20000' });
    await waitFor('some progress', async () => (await mongo.raw.countDocuments({ processed: true })) > 0);
    running.splice(running.indexOf(processor), 1);
    expect(await processor.stop()).toEqual({ drained: true });
    const processed = await mongo.raw.countDocuments({ processed: true });
    expect((await rows()).n).toBe(processed);
    expect(await mongo.raw.countDocuments({ processed: false, leaseOwner: 'drainer' })).toBe(0);
  });
});
