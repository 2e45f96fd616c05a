// Retention: MongoDB forgets processed raw documents and old logs (TTL indexes), and nothing a client relies
// on goes with them. The development MongoDB expires documents through TTL indexes like mongod (its
// monitor runs every second under the tests), so the documents really go.
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureMongoIndexes } from '../src/raw-store/collections.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const API_KEY = 'retention-key-0123456789';
const auth = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

describe.skipIf(!mongoUri)('retention', () => {
  const sys = useSystem({
    API_KEYS: `acme:${API_KEY}`,
    POLL_INTERVAL_MS: '200',
    BATCH_MAX_WAIT_MS: '10',
    RETENTION_PROCESSED_SECONDS: '3600',
    RETENTION_LOGS_SECONDS: '7200',
  });
  let pg: TestPostgres;
  let mongo: TestMongo;
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });

  const envelope = (externalId: string, amount: string) => ({
    source: 'generic',
    externalId,
    payload: { account: 'acc-1', amount, currency: 'EUR', occurredAt: '2026-11-24T12:00:00Z' },
  });
  const post = async (url: string, body: unknown) => {
    const response = await fetch(`${url}/api/v1/transactions`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const get = async (url: string, id: string) => {
    const response = await fetch(`${url}/api/v1/transactions/${id}`, { headers: auth });
    return {
      status: response.status,
      body: (await response.json()) as { status: string; transaction: { id: string } | null } & Record<string, unknown>,
    };
  };
  const processed = (id: string) => async () => (await mongo.raw.findOne({ _id: new ObjectId(id) }))?.processed;

  it('TTL indexes: processed raw documents (partial: failed and dead stay) and logs, with the configured ages', async () => {
    await sys.start(['gateway', 'ingest']);
    const rawIndex = (await mongo.raw.listIndexes().toArray()).find((index) => index.name === 'retention');
    expect(rawIndex).toMatchObject({ key: { processedAt: 1 }, expireAfterSeconds: 3600, partialFilterExpression: { processed: true } });
    const logIndex = (await mongo.logs.listIndexes().toArray()).find((index) => index.name === 'retention');
    expect(logIndex).toMatchObject({ key: { at: 1 }, expireAfterSeconds: 7200 });

    // A changed setting replaces the index (createIndex alone would refuse other options under the same name).
    await ensureMongoIndexes(mongo, { processedSeconds: 60, logsSeconds: 7200 });
    const changed = (await mongo.raw.listIndexes().toArray()).filter((index) => index.name === 'retention');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ expireAfterSeconds: 60, partialFilterExpression: { processed: true } });
  });

  it('processed documents and logs expire, dead ones stay; the transaction is still read by id, and resending its externalId adds no row', async () => {
    // Retention of one second; the development MongoDB's TTL monitor runs every second in tests (mongod's: 60 s).
    const system = await sys.start(['gateway', 'ingest', 'processor'], {
      RETENTION_PROCESSED_SECONDS: '1',
      RETENTION_LOGS_SECONDS: '1',
      MAX_ATTEMPTS: '1',
    });
    const url = system.gatewayUrl!;
    const first = await post(url, envelope('order-77', '12.34'));
    const dead = await post(url, {
      source: 'generic',
      externalId: 'no-date',
      payload: { account: 'acc-1', amount: '1.00', currency: 'EUR' },
    });
    await waitFor('the first document processed', processed(first));
    const before = await get(url, first);
    expect(before.status).toBe(200);
    expect(before.body.transaction?.id).toBe(first);

    const expiry = { timeoutMs: 90_000 };
    await waitFor(
      'the processed document and every log entry expired',
      async () => {
        const [raw, logs] = await Promise.all([mongo.raw.countDocuments({ processed: true }), mongo.logs.countDocuments({})]);
        return raw === 0 && logs === 0;
      },
      expiry,
    );
    // The dead document is kept (the index is partial on processed documents) until replayed or purged.
    expect(await mongo.raw.findOne({ _id: new ObjectId(dead) })).toMatchObject({ status: 'dead' });

    const after = await get(url, first);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ id: first, status: 'processed', lastError: null, transaction: before.body.transaction });

    // MongoDB no longer knows the external id: the resubmission is a new raw document...
    const again = await post(url, envelope('order-77', '12.34'));
    expect(again).not.toBe(first);
    await waitFor('the resubmission processed', processed(again));
    // ...which resolves to the original transaction, and PostgreSQL holds one row for the external id.
    const resolved = await get(url, again);
    expect(resolved.status).toBe(200);
    expect(resolved.body.transaction).toEqual(before.body.transaction);
    expect(await pg.db.one("SELECT count(*)::int AS n FROM transactions WHERE external_id = 'order-77'", [], (r) => r.n)).toBe(1);
    // The alias outlives its raw document too.
    await waitFor('the resubmission expired', async () => (await mongo.raw.countDocuments({ processed: true })) === 0, expiry);
    expect((await get(url, again)).body.transaction?.id).toBe(first);

    // A different external id is still a new transaction; an unknown id is still 404.
    const other = await post(url, envelope('order-78', '1.00'));
    await waitFor('the other document processed', processed(other));
    expect((await get(url, other)).body.transaction?.id).toBe(other);
    expect((await get(url, '0123456789abcdef01234567')).status).toBe(404);
  });
});
