// Ingestion over the raw store against a real MongoDB server (or the stand-in).
import { calculateObjectSize } from 'bson';
import { type CommandStartedEvent, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMongoIngest } from '../../src/ingest/mongo-ingest.js';
import type { StatementCollections } from '../../src/raw-store/collections.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

describe.skipIf(!mongoUri)('createMongoIngest', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('stores the payload as sent, pending, with no attempts, and returns its id', async () => {
    const ingest = createMongoIngest(mongo);
    const payload = { amount: '12.30', nested: { 'dotted.key': [1, { deep: true }] } };
    const { id, duplicate } = await ingest.accept('acme', { source: 'stripe', externalId: 'ch_1', payload });
    expect(duplicate).toBe(false);
    const { _id, receivedAt, ...stored } = (await mongo.raw.findOne({ _id: new ObjectId(id) }))!;
    expect(_id.toHexString()).toBe(id);
    expect(stored).toEqual({
      tenantId: 'acme',
      source: 'stripe',
      externalId: 'ch_1',
      dedupKey: expect.stringMatching(/^\["acme","stripe","ch_1","[A-Za-z0-9_-]{43}"\]$/),
      payload,
      processed: false,
      status: 'pending',
      attempts: 0,
      slot: expect.any(Number),
      // What the waiting-bytes quota sums: the payload as MongoDB stores it (BSON).
      bytes: calculateObjectSize(payload),
    });
    // One of the 64 hash slots processors share (processor/slot-owner.ts).
    expect(stored.slot).toBeGreaterThanOrEqual(0);
    expect(stored.slot).toBeLessThan(64);
    expect(Math.abs(receivedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('shows a document only to its own tenant', async () => {
    const ingest = createMongoIngest(mongo);
    const { id } = await ingest.accept('acme', { source: 'generic', payload: {} });
    expect(await ingest.status('acme', id)).toMatchObject({ id, status: 'pending', attempts: 0, externalId: null, processedAt: null });
    expect(await ingest.status('globex', id)).toBeUndefined();
  });

  it('a second submission of the same (tenant, source, externalId) gets the first id and stores nothing', async () => {
    const ingest = createMongoIngest(mongo);
    const envelope = { source: 'generic' as const, externalId: 'tx-dup-1', payload: { n: 1 } };
    const first = await ingest.accept('acme', envelope);
    const again = await ingest.accept('acme', { ...envelope, payload: { n: 2 } });
    const otherTenant = await ingest.accept('globex', envelope);
    const otherSource = await ingest.accept('acme', { ...envelope, source: 'plaid' });
    expect(again).toEqual({ id: first.id, duplicate: true, status: 'pending' });
    expect(otherTenant.duplicate).toBe(false);
    expect(otherSource.duplicate).toBe(false);
    expect(await mongo.raw.countDocuments({ externalId: 'tx-dup-1' })).toBe(3);
  });

  it('for a revised source, the same externalId with another payload is a new revision; the same payload is a duplicate', async () => {
    const ingest = createMongoIngest(mongo);
    const captured = { id: 'ch_rev', object: 'charge', captured: true, metadata: { a: 1, b: 2 } };
    const first = await ingest.accept('acme', { source: 'stripe', externalId: 'ch_rev', payload: { ...captured, captured: false } });
    const second = await ingest.accept('acme', { source: 'stripe', externalId: 'ch_rev', payload: captured });
    // The same snapshot again, its keys in another order: one document.
    const again = await ingest.accept('acme', {
      source: 'stripe',
      externalId: 'ch_rev',
      payload: { metadata: { b: 2, a: 1 }, captured: true, object: 'charge', id: 'ch_rev' },
    });
    expect(second.duplicate).toBe(false);
    expect(second.id).not.toBe(first.id);
    expect(again).toEqual({ id: second.id, duplicate: true, status: 'pending' });
    expect(await mongo.raw.countDocuments({ externalId: 'ch_rev' })).toBe(2);
  });

  it('acceptMany stores a batch in one bulk write, answering duplicates with the first id', async () => {
    const ingest = createMongoIngest(mongo);
    const existing = await ingest.accept('acme', { source: 'generic', externalId: 'b-1', payload: {} });
    const results = await ingest.acceptMany('acme', [
      { source: 'generic', externalId: 'b-1', payload: {} },
      { source: 'generic', externalId: 'b-2', payload: {} },
      { source: 'generic', payload: {} },
      { source: 'generic', externalId: 'b-2', payload: { again: true } },
    ]);
    expect(results[0]).toEqual({ id: existing.id, duplicate: true, status: 'pending' });
    expect(results[1]).toMatchObject({ duplicate: false });
    expect(results[2]).toMatchObject({ duplicate: false });
    expect(results[3]).toEqual({ id: (results[1] as { id: string }).id, duplicate: true, status: 'pending' });
    expect(await mongo.raw.countDocuments({ externalId: { $in: ['b-1', 'b-2'] } })).toBe(2);
  });

  describe('single documents accepted in one turn of the event loop', () => {
    let client: MongoClient;
    let store: StatementCollections;
    /** The documents of each insert command this client sent, in order. */
    const inserts: number[] = [];
    beforeAll(async () => {
      client = new MongoClient(mongoUri!, { monitorCommands: true });
      client.on('commandStarted', (event: CommandStartedEvent) => {
        if (event.commandName === 'insert') inserts.push((event.command.documents as unknown[]).length);
      });
      await client.connect();
      const db = client.db(mongo.dbName);
      store = { db, raw: db.collection('raw_transactions'), statements: db.collection('statements') };
    });
    afterAll(() => client?.close());

    it('are stored by one insertMany, each answered with its own outcome', async () => {
      const ingest = createMongoIngest(store, { coalesceMaxDocs: 256 });
      const stored = await ingest.accept('acme', { source: 'generic', externalId: 'co-1', payload: { co: 1 } });
      inserts.length = 0;
      const results = await Promise.all([
        ingest.accept('acme', { source: 'generic', externalId: 'co-1', payload: { co: 1 } }),
        ingest.accept('acme', { source: 'generic', externalId: 'co-2', payload: { co: 2 } }),
        ingest.accept('acme', { source: 'generic', payload: { co: 3 } }),
        ingest.accept('acme', { source: 'generic', externalId: 'co-2', payload: { co: 4 } }),
        ingest.accept('globex', { source: 'generic', externalId: 'co-1', payload: { co: 5 } }),
      ]);
      // One command for the five; the duplicates' lookups are finds, not inserts.
      expect(inserts).toEqual([5]);
      expect(results[0]).toEqual({ id: stored.id, duplicate: true, status: 'pending' });
      expect(results[1]).toMatchObject({ duplicate: false });
      expect(results[2]).toMatchObject({ duplicate: false });
      expect(results[3]).toEqual({ id: results[1]!.id, duplicate: true, status: 'pending' });
      expect(results[4]).toMatchObject({ duplicate: false });
      const docs = await store.raw.find({ tenantId: { $in: ['acme', 'globex'] }, 'payload.co': { $exists: true } }).toArray();
      expect(docs.map((doc) => [doc._id.toHexString(), doc.tenantId, doc.payload.co]).sort()).toEqual(
        [
          [stored.id, 'acme', 1],
          [results[1]!.id, 'acme', 2],
          [results[2]!.id, 'acme', 3],
          [results[4]!.id, 'globex', 5],
        ].sort(),
      );
    });

    it('at most coalesceMaxDocs to a command; 1 stores each alone', async () => {
      const envelope = (n: number) => ({ source: 'generic' as const, payload: { n } });
      inserts.length = 0;
      const three = createMongoIngest(store, { coalesceMaxDocs: 3 });
      await Promise.all([1, 2, 3, 4, 5, 6, 7].map((n) => three.accept('acme', envelope(n))));
      expect(inserts).toEqual([3, 3, 1]);
      inserts.length = 0;
      const alone = createMongoIngest(store, { coalesceMaxDocs: 1 });
      await Promise.all([1, 2, 3].map((n) => alone.accept('acme', envelope(n))));
      expect(inserts).toEqual([1, 1, 1]);
    });
  });
});
