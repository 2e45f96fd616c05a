// Ingestion's storage against a real MongoDB server (or the stand-in).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestMongo, mongoUri, type TestMongo } from '../../test/support/databases.js';
import { createMongoIngest } from './raw-store.js';

describe.skipIf(!mongoUri)('createMongoIngest', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('stores the payload as sent, pending, with no attempts, and returns its id', async () => {
    const ingest = createMongoIngest(mongo.raw);
    const payload = { amount: '12.30', nested: { 'dotted.key': [1, { deep: true }] } };
    const { id } = await ingest.accept('acme', { source: 'stripe', externalId: 'ch_1', payload });
    const { _id, receivedAt, ...stored } = (await mongo.raw.findOne({}))!;
    expect(_id.toHexString()).toBe(id);
    expect(stored).toEqual({ tenantId: 'acme', source: 'stripe', externalId: 'ch_1', payload, processed: false, status: 'pending', attempts: 0 });
    expect(Math.abs(receivedAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('shows a document only to its own tenant', async () => {
    const ingest = createMongoIngest(mongo.raw);
    const { id } = await ingest.accept('acme', { source: 'generic', payload: {} });
    expect(await ingest.status('acme', id)).toMatchObject({ id, status: 'pending', attempts: 0, externalId: null, processedAt: null });
    expect(await ingest.status('globex', id)).toBeUndefined();
  });
});
