// No document is retried for ever: a write failing for one document, whatever the error's class, is charged
// to that document alone (dead after MAX_ATTEMPTS, with the reason), while the rest of its batch commits.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/config/logger.js';
import { ProcessorEvents } from '../../src/processor/events.js';
import { type Processor, startProcessor } from '../../src/processor/start.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from '../support/databases.js';
import { useSystem } from '../support/system.js';

const POISON_AMOUNT = 4242;

describe.skipIf(!mongoUri)('attempts', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  const running: Processor[] = [];
  const sys = useSystem({}, { resetAfterEach: false });
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
    await pg.db.none('DROP TRIGGER IF EXISTS refuse_one ON transactions; DROP FUNCTION IF EXISTS refuse_one()');
    await sys.reset();
  });

  it('a document whose write raises an error outside SQLSTATE 22/23 ends dead after MAX_ATTEMPTS with the reason; the others commit', async () => {
    // A real database's way for a writer to fail on one row only: a trigger raising P0001 ("raise_exception"),
    // which the writer classifies as neither a refused row (22/23) nor PostgreSQL away. Before, it was retried for ever.
    await pg.db.none(`
      CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.amount_minor = ${POISON_AMOUNT} THEN RAISE EXCEPTION 'refused by the test trigger: %', NEW.raw_id; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_one BEFORE INSERT ON transactions FOR EACH ROW EXECUTE FUNCTION refuse_one();`);
    const docs = Array.from(
      { length: 40 },
      (_, i) =>
        newRawTransaction('acme', {
          source: 'generic',
          payload: { account: 'a', amountMinor: i === 17 ? POISON_AMOUNT : i + 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' },
        }) as RawTransaction,
    );
    const { insertedIds } = await mongo.raw.insertMany(docs);
    const poison = insertedIds[17]!;

    const events = new ProcessorEvents();
    const stageRetries: string[] = [];
    events.on('stage-retry', ({ stage }) => stageRetries.push(stage));
    const settings = loadSettings({
      BATCH_MAX_SIZE: '100',
      BATCH_MAX_WAIT_MS: '100',
      MAX_ATTEMPTS: '3',
      RETRY_BASE_MS: '20',
      RETRY_MAX_MS: '100',
      POLL_INTERVAL_MS: '100',
      WORKER_ID: 'attempts',
    });
    running.push(await startProcessor(mongo, pg.db, settings.processor, createLogger('silent'), events));

    const dead = await waitFor('the poison dead-lettered', () => mongo.raw.findOne({ _id: poison, status: 'dead' }), { timeoutMs: 30_000 });
    expect(dead.attempts).toBe(3);
    expect(dead.lastError).toMatch(/refused by the test trigger/);
    expect(await mongo.raw.countDocuments({ processed: true })).toBe(39);
    const rows = await pg.db.one<{ n: number; poison: number }>(
      'SELECT count(*)::int AS n, count(*) FILTER (WHERE amount_minor = $1)::int AS poison FROM transactions',
      [POISON_AMOUNT],
    );
    expect(rows).toEqual({ n: 39, poison: 0 });
    // Only the poison was charged: no other document has an attempt, and no stage retried as if PostgreSQL were away.
    expect(await mongo.raw.countDocuments({ attempts: { $gt: 0 } })).toBe(1);
    expect(stageRetries).toEqual([]);
    const outcomes = await mongo.logs.find({ rawId: poison }).sort({ at: 1 }).toArray();
    expect(outcomes.map((log) => log.outcome)).toEqual(['failed', 'failed', 'dead']);
  });
});
