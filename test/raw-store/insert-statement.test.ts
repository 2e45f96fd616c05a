// Storing an uploaded camt.053 file against a real MongoDB (or the stand-in): once, whatever is re-sent,
// and completed by the next send when the first was cut half-way.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCamt053 } from '../../src/domain/camt053-xml.js';
import { isTransient } from '../../src/domain/errors.js';
import { STATEMENT_FILES_BUCKET as FILES_BUCKET } from '../../src/raw-store/collections.js';
import { insertStatement } from '../../src/raw-store/insert-statement.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

const xml = readFileSync(
  fileURLToPath(new URL('../../src/mapping/transform/vendor/camt053/iso20022-business-sample.camt.053.001.04.xml', import.meta.url)),
  'utf8',
);

describe.skipIf(!mongoUri)('insertStatement', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('a send cut after some entries is completed by the next one, with no entry twice', async () => {
    const store = { db: mongo.db, raw: mongo.raw, statements: mongo.statements };
    const first = await insertStatement(store, 'acme', parseCamt053(xml), xml);
    expect(await mongo.raw.countDocuments({ tenantId: 'acme', source: 'iso20022' })).toBe(3);
    // As if the first send had stopped after two of its three entries.
    await mongo.statements.updateOne({ _id: { $exists: true } }, { $set: { complete: false }, $unset: { entryIds: '' } });
    await mongo.raw.deleteOne({ 'payload.statement.index': 2 });

    const again = await insertStatement(store, 'acme', parseCamt053(xml), xml);
    expect(again).toEqual({ id: first.id, duplicate: false });
    expect(await mongo.raw.countDocuments({ tenantId: 'acme', source: 'iso20022' })).toBe(3);
    const doc = await mongo.statements.findOne({});
    expect(doc).toMatchObject({ complete: true, version: 'camt.053.001.04' });
    expect(doc?.entryIds?.every((id) => id !== null)).toBe(true);
    // Complete now: a third send stores nothing.
    expect(await insertStatement(store, 'acme', parseCamt053(xml), xml)).toEqual({ id: first.id, duplicate: true });
  });

  it('two sends of one statement at once: one stores it, the other waits its turn (503) or finds it stored; one file', async () => {
    const store = { db: mongo.db, raw: mongo.raw, statements: mongo.statements };
    const other = xml.replaceAll('AAAASESS-FP-STAT001', 'TWICE-STAT');
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => insertStatement(store, 'twice', parseCamt053(other), other)));
    const stored = outcomes.flatMap((o) => (o.status === 'fulfilled' && !o.value.duplicate ? [o.value] : []));
    expect(stored).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(isTransient(o.reason), String(o.reason)).toBe(true);
      else expect(o.value.id).toBe(stored[0]!.id);
    }
    const doc = await mongo.statements.findOne({ tenantId: 'twice' });
    expect(doc).toMatchObject({ complete: true });
    expect(await mongo.db.collection(`${FILES_BUCKET}.files`).countDocuments({ 'metadata.statementId': doc!._id })).toBe(1);
    expect(await mongo.raw.countDocuments({ tenantId: 'twice' })).toBe(3);
  });
});
