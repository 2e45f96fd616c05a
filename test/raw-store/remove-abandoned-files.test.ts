// The sweep of failed uploads' files against a real MongoDB (or the stand-in): an incomplete statement nobody
// stores loses its file, whole or partial; one being stored, or complete, keeps it; a later send writes it again.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCamt053 } from '../../src/domain/camt053-xml.js';
import { STATEMENT_FILES_BUCKET as FILES_BUCKET } from '../../src/raw-store/collections.js';
import { insertStatement } from '../../src/raw-store/insert-statement.js';
import { removeAbandonedFiles } from '../../src/raw-store/remove-abandoned-files.js';
import { createTestMongo, mongoUri, type TestMongo } from '../support/databases.js';

const xml = readFileSync(
  fileURLToPath(new URL('../../src/mapping/transform/vendor/camt053/iso20022-business-sample.camt.053.001.04.xml', import.meta.url)),
  'utf8',
);

describe.skipIf(!mongoUri)('removeAbandonedFiles', () => {
  let mongo: TestMongo;
  beforeAll(async () => {
    mongo = await createTestMongo();
  });
  afterAll(() => mongo?.drop());

  it('removes the file of an incomplete upload nobody stores; keeps complete ones and those being stored', async () => {
    const files = mongo.db.collection(`${FILES_BUCKET}.files`);
    const chunks = mongo.db.collection(`${FILES_BUCKET}.chunks`);
    const stored = async (tenantId: string) => {
      await insertStatement(mongo, tenantId, parseCamt053(xml), xml);
      return (await mongo.statements.findOne({ tenantId }))!._id;
    };
    const complete = await stored('kept');
    const failed = await stored('failed');
    const busy = await stored('busy');
    // As if the sends of "failed" and "busy" had stopped before completing; "busy" is being sent again now.
    await mongo.statements.updateMany({ _id: { $in: [failed, busy] } }, { $set: { complete: false } });
    await mongo.statements.updateOne({ _id: busy }, { $set: { storing: { token: 't', until: new Date(Date.now() + 60_000) } } });
    await files.deleteOne({ _id: failed }); // half a file: chunks, no files document

    const later = new Date(Date.now() + 1_000);
    expect(await removeAbandonedFiles(mongo, { olderThan: later })).toBe(1);
    expect(await files.countDocuments({ _id: { $in: [complete, busy] } })).toBe(2);
    expect(await chunks.countDocuments({ files_id: failed })).toBe(0);
    expect(await chunks.countDocuments({ files_id: { $in: [complete, busy] } })).toBe(2);
    // Its file's bytes no longer count against the tenant's stored statements (TENANT_MAX_STORED_STATEMENT_BYTES).
    const fileBytes = async (id: typeof failed) => (await mongo.statements.findOne({ _id: id }))?.fileBytes;
    expect(await fileBytes(failed)).toBe(0);
    expect(await fileBytes(complete)).toBeGreaterThan(Buffer.byteLength(xml));
    // Once swept, not looked at again; sent again, it is stored whole.
    expect(await removeAbandonedFiles(mongo, { olderThan: later })).toBe(0);
    expect(await insertStatement(mongo, 'failed', parseCamt053(xml), xml)).toEqual({ id: failed.toHexString(), duplicate: false });
    expect(await mongo.statements.findOne({ _id: failed })).toMatchObject({ complete: true, fileId: failed });
    expect((await mongo.statements.findOne({ _id: failed }))?.abandoned).toBeUndefined();
    // Written again, counted again.
    expect(await fileBytes(failed)).toBe(await fileBytes(complete));
    expect(await chunks.countDocuments({ files_id: failed })).toBe(1);
  });
});
