// The whole flow on real servers: HTTP in, MongoDB raw documents, the processor, PostgreSQL rows out.
import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Role, System } from '../src/cli/system.js';
import { replay } from '../src/raw-store/replay.js';
import { mongoUri, type TestMongo, type TestPostgres, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const API_KEY = 'e2e-key-0123456789abcdef';

describe.skipIf(!mongoUri)('end to end', () => {
  const sys = useSystem({
    API_KEYS: `acme:${API_KEY}`,
    POLL_INTERVAL_MS: '500',
    BATCH_MAX_WAIT_MS: '20',
    BATCH_MAX_SIZE: '100',
    RETRY_BASE_MS: '50',
  });
  let pg: TestPostgres;
  let mongo: TestMongo;
  beforeAll(() => {
    ({ pg, mongo } = sys);
  });
  const start = (roles: Role[], env: Record<string, string> = {}): Promise<System> => sys.start(roles, env);

  const envelope = (i: number) => ({
    source: 'generic',
    externalId: `order-${i}`,
    payload: {
      account: `acc-${i % 10}`,
      amount: `${i}.${String(i % 100).padStart(2, '0')}`,
      currency: 'EUR',
      occurredAt: '2026-11-24T12:00:00Z',
    },
  });
  /** Sum in minor units of what envelope(0..n-1) carries. */
  const expectedSum = (n: number) => Array.from({ length: n }, (_, i) => BigInt(i) * 100n + BigInt(i % 100)).reduce((a, b) => a + b, 0n);

  async function postAll(gatewayUrl: string, count: number, concurrency = 16): Promise<string[]> {
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) {
          const i = next++;
          const response = await fetch(`${gatewayUrl}/api/v1/transactions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
            body: JSON.stringify(envelope(i)),
          });
          expect(response.status).toBe(202);
          ids.push(((await response.json()) as { id: string }).id);
        }
      }),
    );
    return ids;
  }

  const counts = async () => ({
    rows: await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number),
    distinctRaw: await pg.db.one('SELECT count(DISTINCT raw_id)::int AS n FROM transactions', [], (r) => r.n as number),
    processed: await mongo.raw.countDocuments({ processed: true, status: 'processed' }),
    logs: await mongo.logs.countDocuments({ outcome: 'processed' }),
  });

  it('500 posted transactions reach PostgreSQL once each, and a restarted processor writes nothing twice', async () => {
    const system = await start(['gateway', 'ingest', 'processor'], { WORKER_ID: 'e2e-first' });
    const ids = await postAll(system.gatewayUrl!, 500);
    expect(new Set(ids).size).toBe(500);

    await waitFor('500 rows, processed documents and logs', async () => {
      const now = await counts();
      return now.rows === 500 && now.processed === 500 && now.logs === 500 && now;
    });
    expect(await pg.db.one('SELECT sum(amount_minor)::bigint AS s FROM transactions', [], (r) => r.s)).toBe(expectedSum(500));
    expect(await pg.db.one('SELECT count(*)::int AS n FROM accounts', [], (r) => r.n)).toBe(10);
    expect(await mongo.raw.countDocuments({ processedAt: { $type: 'date' }, leaseOwner: null })).toBe(500);

    // A crash between the PostgreSQL commit and the MongoDB update leaves committed documents unprocessed:
    // simulate it for 100 of them, restart the processor, and the replay must be absorbed.
    await sys.stop();
    const replayed = ids.slice(0, 100);
    await mongo.raw.updateMany(
      { _id: { $in: replayed.map((id) => new ObjectId(id)) } },
      { $set: { processed: false, status: 'pending' }, $unset: { processedAt: '' } },
    );

    await start(['processor'], { WORKER_ID: 'e2e-second' });
    await waitFor('the replayed documents processed again', async () => (await mongo.raw.countDocuments({ processed: true })) === 500);
    await waitFor(
      'the replay logged',
      async () => (await mongo.logs.countDocuments({ worker: 'e2e-second', outcome: 'processed' })) === 100,
    );
    const after = await counts();
    expect(after).toMatchObject({ rows: 500, distinctRaw: 500, processed: 500 });
    expect(await pg.db.one('SELECT sum(amount_minor)::bigint AS s FROM transactions', [], (r) => r.s)).toBe(expectedSum(500));
  });

  it('runs as separate services: the gateway reaches ingestion over INGEST_URL', async () => {
    const ingest = await start(['ingest']);
    const gateway = await start(['gateway'], { INGEST_URL: ingest.ingestUrl! });
    await start(['processor'], { WORKER_ID: 'e2e-separate' });

    const ids = await postAll(gateway.gatewayUrl!, 50);
    await waitFor('50 rows', async () => (await counts()).rows === 50);
    await waitFor('50 processed', async () => (await mongo.raw.countDocuments({ processed: true })) === 50);

    // The ingestion service stored them; the gateway (whose MongoDB holds only keys and idempotency
    // records) stored none itself.
    const stored = async (system: System) => (await system.metrics.rawAccepted.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect({ ingest: await stored(ingest), gateway: await stored(gateway) }).toEqual({ ingest: 50, gateway: 0 });
    const status = await fetch(`${gateway.gatewayUrl}/api/v1/transactions/${ids[0]}`, { headers: { 'x-api-key': API_KEY } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ id: ids[0], status: 'processed', attempts: 0 });
  });

  it('answers 503 problem+json and stores nothing when the ingestion service is down', async () => {
    const gateway = await start(['gateway'], { INGEST_URL: 'http://127.0.0.1:1' });
    const response = await fetch(`${gateway.gatewayUrl}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify(envelope(1)),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await mongo.raw.countDocuments({})).toBe(0);
  });

  it('a payload the mapper refuses for good is dead after one attempt, with the reason, and does not hold up the others', async () => {
    // MAX_ATTEMPTS stays 5: a refusal no retry can change is not retried (a replay after a fix can help).
    const system = await start(['gateway', 'ingest', 'processor'], { WORKER_ID: 'e2e-poison' });
    await postAll(system.gatewayUrl!, 20);
    const bad = await fetch(`${system.gatewayUrl}/api/v1/transactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({
        source: 'generic',
        // Money the door accepts, a date the mapper cannot read: accepted, then dead with the reason.
        payload: { account: 'a', amount: '10.05', currency: 'USD', occurredAt: 'yesterday' },
      }),
    });
    const { id } = (await bad.json()) as { id: string };
    await waitFor('20 rows', async () => (await counts()).rows === 20);
    const dead = await waitFor('the refused document dead-lettered', () => mongo.raw.findOne({ _id: new ObjectId(id), status: 'dead' }));
    expect(dead).toMatchObject({
      processed: false,
      attempts: 1,
      lastError: expect.stringMatching(/^payload\.occurredAt: /),
    });
    const outcomes = () =>
      mongo.logs
        .find({ rawId: new ObjectId(id) })
        .sort({ at: 1 })
        .map((log) => log.outcome)
        .toArray();
    // The log entry follows the mark.
    await waitFor('its outcome logged', async () => (await mongo.logs.countDocuments({ rawId: new ObjectId(id) })) === 1);
    expect(await outcomes()).toEqual(['dead']);
    const status = await fetch(`${system.gatewayUrl}/api/v1/transactions/${id}`, { headers: { 'x-api-key': API_KEY } });
    expect(await status.json()).toMatchObject({ status: 'dead', attempts: 1, lastError: expect.stringMatching(/^payload\.occurredAt: /) });
    expect(await pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n)).toBe(20);

    // Dead letters are replayable: back in line with a fresh attempt (here it is refused the same way again).
    expect(await replay(mongo.raw, { ids: [id], statuses: ['dead'], dryRun: false })).toEqual({ matched: 1, replayed: 1, dryRun: false });
    await waitFor('the replayed document dead again', async () => (await mongo.logs.countDocuments({ rawId: new ObjectId(id) })) === 2);
    expect(await outcomes()).toEqual(['dead', 'dead']);
    expect(await mongo.raw.findOne({ _id: new ObjectId(id) })).toMatchObject({ status: 'dead', attempts: 1 });
  });
});
