import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { writeLogs } from '../../src/raw-store/write-logs.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

describe.skipIf(!mongoUri)('writeLogs', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('writes one entry per outcome, and a retried write adds nothing twice', async () => {
    const raw = { _id: new ObjectId(), ...newRawTransaction('acme', { source: 'generic', payload: {} }) } as RawTransaction;
    const doc = { id: raw._id.toHexString() };
    const entries = [
      {
        rawId: doc.id,
        tenantId: raw.tenantId,
        outcome: 'failed' as const,
        batchId: 'w-1',
        durationMs: 5,
        latencyMs: 9,
        error: 'payload.amount: bad',
      },
    ];
    await writeLogs(mongo.logs, entries, 'w');
    await writeLogs(mongo.logs, entries, 'w');
    await writeLogs(mongo.logs, [{ ...entries[0]!, batchId: 'w-2', outcome: 'dead' as const }], 'w');
    const logs = await mongo.logs.find({ rawId: raw._id }).sort({ at: 1, _id: 1 }).toArray();
    expect(logs.map((log) => [log._id, log.outcome, log.tenantId, log.worker, log.error])).toEqual([
      [`w-1:${doc.id}`, 'failed', 'acme', 'w', 'payload.amount: bad'],
      [`w-2:${doc.id}`, 'dead', 'acme', 'w', 'payload.amount: bad'],
    ]);
  });
});
