// Claims against a real MongoDB server (or the stand-in): leases are exclusive and expire.
import { BSON, ObjectId } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimBatch } from '../../src/raw-store/claim.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { releaseLeases } from '../../src/raw-store/release-leases.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

describe.skipIf(!mongoUri)('claimBatch', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  beforeEach(() => mongo.raw.deleteMany({}));
  afterAll(() => mongo?.drop());

  async function insert(count: number, overrides: Partial<RawTransaction> = {}): Promise<string[]> {
    const docs = Array.from(
      { length: count },
      (_, i) => ({ ...newRawTransaction('acme', { source: 'generic', payload: { i } }), ...overrides }) as RawTransaction,
    );
    const { insertedIds } = await mongo.raw.insertMany(docs);
    return Object.values(insertedIds).map((id) => id.toHexString());
  }

  it('racing workers each get a disjoint share and together every document', async () => {
    const ids = await insert(200);
    const claims = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((worker) => claimBatch(mongo.raw, ids, { worker, leaseMs: 60_000 })));
    const claimed = claims.flatMap((docs) => docs.map((doc) => doc.id));
    expect(claimed.sort()).toEqual([...ids].sort());
    for (const [k, docs] of claims.entries()) {
      expect(new Set(docs.map((doc) => doc.raw.leaseOwner))).toEqual(docs.length ? new Set([`w${k + 1}`]) : new Set());
    }
    expect(await mongo.raw.countDocuments({ leaseOwner: { $in: ['w1', 'w2', 'w3', 'w4'] } })).toBe(200);
  });

  it('a held lease keeps others out until it expires', async () => {
    const ids = await insert(3);
    expect(await claimBatch(mongo.raw, ids, { worker: 'w1', leaseMs: 60_000 })).toHaveLength(3);
    expect(await claimBatch(mongo.raw, ids, { worker: 'w2', leaseMs: 60_000 })).toHaveLength(0);
    // The first worker "crashed": its lease runs out.
    await mongo.raw.updateMany({}, { $set: { leaseUntil: new Date(Date.now() - 1) } });
    const reclaimed = await claimBatch(mongo.raw, ids, { worker: 'w2', leaseMs: 60_000 });
    expect(reclaimed.map((doc) => doc.raw.leaseOwner)).toEqual(['w2', 'w2', 'w2']);
  });

  it('never claims processed or dead-lettered documents', async () => {
    const done = await insert(2, { processed: true, status: 'processed' });
    const dead = await insert(2, { status: 'dead' });
    const failed = await insert(2, { status: 'failed', attempts: 1 });
    const claimed = await claimBatch(mongo.raw, [...done, ...dead, ...failed], { worker: 'w1', leaseMs: 60_000 });
    expect(claimed.map((doc) => doc.id).sort()).toEqual([...failed].sort());
    expect(claimed.map((doc) => doc.attempts)).toEqual([1, 1]);
  });

  it('holds at most maxBytes of documents, the first whatever its size, and gives the rest back at once', async () => {
    const ids = await insert(10, { payload: { note: 'x'.repeat(2_000) } });
    const size = BSON.calculateObjectSize((await mongo.raw.findOne({}))!) + 200; // leases add a few bytes
    const first = await claimBatch(mongo.raw, ids, { worker: 'w1', leaseMs: 60_000, maxBytes: 3.5 * size });
    expect(first).toHaveLength(3);
    // The seven not taken are claimable now, not after the lease: another claim gets them.
    expect(await mongo.raw.countDocuments({ leaseOwner: 'w1' })).toBe(3);
    expect(await mongo.raw.countDocuments({ leaseToken: null, leaseUntil: null })).toBe(7);
    const second = await claimBatch(mongo.raw, ids, { worker: 'w2', leaseMs: 60_000, maxBytes: 1 });
    expect(second).toHaveLength(1);
    const rest = await claimBatch(mongo.raw, ids, { worker: 'w3', leaseMs: 60_000 });
    expect(rest).toHaveLength(6);
    const all = [...first, ...second, ...rest].map((doc) => doc.id);
    expect(all.sort()).toEqual([...ids].sort());
    expect(rest[0]!.raw.payload).toEqual({ note: 'x'.repeat(2_000) });
    expect(rest[0]!.raw.receivedAt).toBeInstanceOf(Date);
  });

  it('releaseLeases gives back only the releasing worker’s unprocessed documents', async () => {
    const ids = await insert(4);
    await claimBatch(mongo.raw, ids.slice(0, 2), { worker: 'w1', leaseMs: 60_000 });
    await claimBatch(mongo.raw, ids.slice(2), { worker: 'w2', leaseMs: 60_000 });
    expect(await releaseLeases(mongo.raw, ids, 'w1')).toBe(2);
    expect(await mongo.raw.countDocuments({ leaseOwner: 'w2' })).toBe(2);
    expect(await claimBatch(mongo.raw, ids, { worker: 'w3', leaseMs: 60_000 })).toHaveLength(2);
    expect((await mongo.raw.findOne({ _id: new ObjectId(ids[0]) }))?.leaseOwner).toBe('w3');
  });
});
