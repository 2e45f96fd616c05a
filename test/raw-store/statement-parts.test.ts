// An uploaded statement's entries are stored without their account and read with it, against a real MongoDB
// (or the stand-in): mapped exactly as an entry that carries its account, as entries of earlier releases do.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPayloads, parseCamt053 } from '../../src/domain/camt053-xml.js';
import { rawInputOf, transformRaw } from '../../src/mapping/transform/index.js';
import type { RawTransaction } from '../../src/raw-store/collections.js';
import { insertStatement } from '../../src/raw-store/insert-statement.js';
import { resolveStatementParts } from '../../src/raw-store/statement-parts.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

const xml = readFileSync(
  fileURLToPath(new URL('../../src/mapping/transform/vendor/camt053/iso20022-business-sample.camt.053.001.04.xml', import.meta.url)),
  'utf8',
);

describe.skipIf(!mongoUri)('resolveStatementParts', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('maps stored entries exactly as their payloads with the account; an entry of an earlier release keeps its own', async () => {
    const file = parseCamt053(xml);
    await insertStatement(mongo, 'acme', file, xml);
    const stored = await mongo.raw.find({ tenantId: 'acme' }).sort({ 'payload.statement.index': 1 }).toArray();
    expect(stored.map((doc) => doc.payload.Acct)).toEqual([undefined, undefined, undefined]);
    // As an earlier release stored it: the account in the payload, no statementPart.
    const legacy: RawTransaction = { ...stored[0]!, payload: entryPayloads(file.statements[0]!)[0]!, statementPart: undefined };
    const other: RawTransaction = { ...stored[0]!, source: 'generic', statementId: undefined, payload: { account: 'a' } };
    await resolveStatementParts(mongo.statements, [...stored, legacy, other]);
    expect(stored.map((doc) => doc.payload)).toEqual(entryPayloads(file.statements[0]!));
    expect(legacy.payload).toEqual(entryPayloads(file.statements[0]!)[0]);
    expect(other.payload).toEqual({ account: 'a' });
    const mapped = stored.map((doc) => transformRaw(rawInputOf(doc)));
    const expected = entryPayloads(file.statements[0]!).map((payload, i) => transformRaw(rawInputOf({ ...stored[i]!, payload })));
    expect(mapped).toEqual(expected);
  });

  it('an upload an earlier release left incomplete (no account in its statements document) is completed with it', async () => {
    const file = parseCamt053(xml.replaceAll('AAAASESS-FP-STAT001', 'OLD-STAT'));
    await insertStatement(mongo, 'old', file, xml);
    await mongo.statements.updateOne(
      { tenantId: 'old' },
      { $set: { complete: false }, $unset: { 'statements.0.account': '', entryIds: '' } },
    );
    await mongo.raw.deleteOne({ tenantId: 'old', 'payload.statement.index': 2 });
    await insertStatement(mongo, 'old', file, xml);
    expect((await mongo.statements.findOne({ tenantId: 'old' }))?.statements[0]?.account).toEqual(file.statements[0]!.account);
    const docs = await mongo.raw.find({ tenantId: 'old' }).sort({ 'payload.statement.index': 1 }).toArray();
    await resolveStatementParts(mongo.statements, docs);
    expect(docs.map((doc) => doc.payload)).toEqual(entryPayloads(file.statements[0]!));
  });

  it('an entry whose statement is gone is left without its account, and its mapper refuses it by name', async () => {
    const file = parseCamt053(xml.replaceAll('AAAASESS-FP-STAT001', 'GONE-STAT'));
    const { id } = await insertStatement(mongo, 'gone', file, xml);
    await mongo.statements.deleteOne({ tenantId: 'gone' });
    const doc = (await mongo.raw.findOne({ tenantId: 'gone' }))!;
    expect(doc.statementId?.toHexString()).toBe(id);
    await resolveStatementParts(mongo.statements, [doc]);
    expect(doc.payload.Acct).toBeUndefined();
    expect(() => transformRaw(rawInputOf(doc))).toThrow(/payload\.Acct/);
  });
});
