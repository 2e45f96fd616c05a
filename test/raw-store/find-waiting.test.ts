// The sweep's pages against a real MongoDB server (or the stand-in): a pass over a backlog continues after
// the last document it offered, never past one it left out, and starts again once it reaches the end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { findWaitingFair, findWaitingIds } from '../../src/raw-store/find-waiting.js';
import { newRawTransaction } from '../../src/raw-store/insert.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

describe.skipIf(!mongoUri)("the sweep's pages", () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  beforeEach(() => mongo.raw.deleteMany({}));
  afterAll(() => mongo?.drop());

  /** Inserted oldest first, in one call: ids ascend in the order given. */
  async function insert(tenants: string[]): Promise<string[]> {
    const docs = tenants.map((tenant, i) => newRawTransaction(tenant, { source: 'generic', payload: { i } }) as RawTransaction);
    const { insertedIds } = await mongo.raw.insertMany(docs);
    return Object.values(insertedIds).map((id) => id.toHexString());
  }

  it('a fair page continues after the last document it offered, and names none past one left out for want of room', async () => {
    const ids = await insert([...Array<string>(30).fill('b'), 'a', 'a', 'a']);
    const bIds = ids.slice(0, 30);
    const page = (after: string | undefined, roomForB = 100) =>
      findWaitingFair(mongo.raw, { limit: 10, tenants: ['a', 'b'], start: 0, roomFor: (t) => (t === 'b' ? roomForB : 100), after });

    const first = await page(undefined);
    // B's oldest ten, and A's three by A's own query (A's documents are behind B's in _id order).
    expect(first.found.filter((doc) => doc.tenantId === 'b').map((doc) => doc.id)).toEqual(bIds.slice(0, 10));
    expect(first.found.filter((doc) => doc.tenantId === 'a').map((doc) => doc.id)).toEqual(ids.slice(30));
    expect(first).toMatchObject({ full: true, through: bIds[9] });

    const second = await page(first.through);
    expect(second.found.filter((doc) => doc.tenantId === 'b').map((doc) => doc.id)).toEqual(bIds.slice(10, 20));
    expect(second.through).toBe(bIds[19]);

    // Room for four of B's: the pass stands after the fourth, so the six left out are asked for again.
    const cramped = await page(second.through, 4);
    expect(cramped.found.filter((doc) => doc.tenantId === 'b').map((doc) => doc.id)).toEqual(bIds.slice(20, 24));
    expect(cramped.through).toBe(bIds[23]);

    // The rest of B's and A's three fill the page short of its limit: the end, the next pass starts over.
    const last = await page(cramped.through);
    expect(last.found.map((doc) => doc.id)).toEqual([...bIds.slice(24), ...ids.slice(30)]);
    expect(last.through).toBeUndefined();
  });

  it('the plain page reads only what lies after the id it is given', async () => {
    const ids = await insert(Array<string>(12).fill('b'));
    expect(await findWaitingIds(mongo.raw, 5)).toEqual(ids.slice(0, 5));
    expect(await findWaitingIds(mongo.raw, 5, { after: ids[4] })).toEqual(ids.slice(5, 10));
    expect(await findWaitingIds(mongo.raw, 5, { after: ids[9] })).toEqual(ids.slice(10));
  });
});
