// Documents as large as MongoDB stores, on real servers: a 10 MiB document is accepted where the body limit
// allows it and processed alone in its batch (it weighs more than BATCH_MAX_BYTES), beside small ones; with the
// default limit it is refused at the door; a payload MongoDB could not store is refused with 413 whatever
// the body limit, alone in a batch.
import { calculateObjectSize } from 'bson';
import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MAX_STORED_PAYLOAD_BYTES } from '../src/domain/envelope.js';
import { mongoUri, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { postAs } from './support/tenants.js';

const API_KEY = 'large-key-0123456789abcdef';
const MiB = 2 ** 20;

describe.skipIf(!mongoUri)('large documents', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });

  const post = (url: string, path: string, body: unknown) => postAs(url, API_KEY, path, body);
  const envelope = (i: number, metadata: Record<string, unknown> = {}) => ({
    source: 'generic',
    externalId: `large-${i}`,
    payload: { account: 'acc-1', amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z', metadata },
  });

  it('a 10 MiB document is processed, alone in its batch, and its row holds it whole', async () => {
    const system = await sys.start(['gateway', 'ingest', 'processor'], {
      BODY_LIMIT_BYTES: String(12 * MiB),
      // Smaller than the document: the claim still takes it, by itself.
      BATCH_MAX_BYTES: String(1 * MiB),
      WORKER_ID: 'large-10',
    });
    const note = 'n'.repeat(10 * MiB);
    const big = await post(system.gatewayUrl!, '/api/v1/transactions', envelope(0, { note }));
    expect(big.status).toBe(202);
    const { id } = (await big.json()) as { id: string };
    for (let i = 1; i <= 20; i++) expect((await post(system.gatewayUrl!, '/api/v1/transactions', envelope(i))).status).toBe(202);

    await waitFor(
      '21 rows',
      async () => (await sys.pg.db.one('SELECT count(*)::int AS n FROM transactions', [], (r) => r.n as number)) === 21,
      {
        timeoutMs: 60_000,
      },
    );
    const row = await sys.pg.db.one(
      "SELECT amount_minor::int AS amount, length(metadata->>'note') AS note FROM transactions WHERE raw_id = $1",
      [id],
    );
    expect(row).toEqual({ amount: 100, note: 10 * MiB });
    await waitFor('21 processed', async () => (await sys.mongo.raw.countDocuments({ processed: true })) === 21);
    // One batch held it and nothing else.
    const entry = await sys.mongo.logs.findOne({ rawId: new ObjectId(id) });
    expect(await sys.mongo.logs.countDocuments({ batchId: entry!.batchId })).toBe(1);
  });

  it('with the default body limit (1 MiB) the same document is refused at the door, and nothing is stored', async () => {
    const system = await sys.start(['gateway', 'ingest']);
    const response = await post(system.gatewayUrl!, '/api/v1/transactions', envelope(0, { note: 'n'.repeat(10 * MiB) }));
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await sys.mongo.raw.countDocuments({})).toBe(0);
  });

  it('a payload MongoDB could not store is 413 document-too-large, alone in a batch; the others are stored', async () => {
    const system = await sys.start(['gateway', 'ingest'], { BODY_LIMIT_BYTES: String(16 * MiB), BATCH_BODY_LIMIT_BYTES: String(16 * MiB) });
    // 1.5 million zeros: 3 MiB of JSON, but BSON names every element ("1234567": 0), ~17 MiB stored.
    const zeros = new Array(1_500_000).fill(0);
    const oversized = envelope(0, { zeros });
    expect(JSON.stringify(oversized).length).toBeLessThan(4 * MiB);
    expect(calculateObjectSize(oversized.payload)).toBeGreaterThan(MAX_STORED_PAYLOAD_BYTES);

    const single = await post(system.gatewayUrl!, '/api/v1/transactions', oversized);
    expect(single.status).toBe(413);
    expect(await single.json()).toMatchObject({ type: '/problems/document-too-large', status: 413 });

    const batch = await post(system.gatewayUrl!, '/api/v1/transactions/batch', { items: [envelope(1), oversized, envelope(2)] });
    expect(batch.status).toBe(207);
    const body = (await batch.json()) as { accepted: number; results: Array<{ status: number; problem?: { type: string } }> };
    expect(body.accepted).toBe(2);
    expect(body.results.map((r) => r.status)).toEqual([202, 413, 202]);
    expect(body.results[1]!.problem!.type).toBe('/problems/document-too-large');
    expect(await sys.mongo.raw.countDocuments({})).toBe(2);
  });
});
