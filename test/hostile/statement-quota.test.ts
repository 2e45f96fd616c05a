// Every byte a statement upload makes us store counts against its tenant, and is refused before it is stored:
// its file (GridFS), its statements document and its entries against the per-day and waiting quotas, its file
// and statements document against the stored-statement quota for as long as they are kept (issue 42). A
// tenant uploading statements (with entries or without) until refused finds nothing more stored by the
// refusal; another tenant uploads as before; once retention removes the files (and the TTL index the
// documents), the room comes back.
import { BSON, type ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { STATEMENT_FILES_BUCKET } from '../../src/raw-store/collections.js';
import { mongoUri, type TestMongo, waitFor } from '../support/databases.js';
import { useSystem } from '../support/system.js';

const KEY_A = 'statement-quota-key-a-0123456789';
const KEY_B = 'statement-quota-key-b-0123456789';

/** A camt.053.001.08 file of one statement with `entries` entries (0: a statement with balances only). */
function statementXml(id: string, entries: number): string {
  const entry = (i: number) => `
      <Ntry>
        <NtryRef>${i}</NtryRef>
        <Amt Ccy="EUR">${(100 + i).toFixed(2)}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-12-01</Dt></BookgDt>
        <ValDt><Dt>2026-12-01</Dt></ValDt>
        <AcctSvcrRef>${id}-REF-${i}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls><Refs><EndToEndId>E2E-${id}-${i}</EndToEndId></Refs><RmtInf><Ustrd>Invoice ${id}-${i}</Ustrd></RmtInf></TxDtls></NtryDtls>
      </Ntry>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-${id}</MsgId><CreDtTm>2026-12-01T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${id}</Id>
      <ElctrncSeqNb>1</ElctrncSeqNb>
      <CreDtTm>2026-12-01T18:00:00+01:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Nm>${'N'.repeat(70)}</Nm></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">2000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-12-01</Dt></Dt></Bal>${Array.from(
        { length: entries },
        (_, i) => entry(i),
      ).join('')}
      <!--${' '.repeat(1_500)}-->
    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
}

const size = (docs: BSON.Document[]) => docs.reduce((sum, doc) => sum + BSON.calculateObjectSize(doc), 0);

/**
 * What MongoDB holds of a tenant's uploads, in BSON bytes: their files (files documents and chunks), their
 * statements documents, their entries' documents whole and their entries' payloads (what a document's quota
 * counts of it); and how many of each, to see that a refusal stored nothing.
 */
async function storedOf(mongo: TestMongo, tenantId: string) {
  const statements = await mongo.statements.find({ tenantId }).toArray();
  const ids = statements.map((s) => s._id) as ObjectId[];
  const files = await mongo.db
    .collection(`${STATEMENT_FILES_BUCKET}.files`)
    .find({ _id: { $in: ids } })
    .toArray();
  const chunks = await mongo.db
    .collection(`${STATEMENT_FILES_BUCKET}.chunks`)
    .find({ files_id: { $in: ids } })
    .toArray();
  const entries = await mongo.raw.find({ tenantId, statementId: { $exists: true } }).toArray();
  const bytes = {
    file: size(files) + size(chunks),
    document: size(statements),
    entries: entries.reduce((sum, doc) => sum + BSON.calculateObjectSize(doc.payload), 0),
    entryDocuments: size(entries),
  };
  return {
    counts: { statements: statements.length, files: files.length, chunks: chunks.length, entries: entries.length },
    bytes,
    /** The file and its statements document: what the stored-statement quota counts. */
    kept: bytes.file + bytes.document,
    /** Everything the per-day quota counts: the file, its statements document, its entries' payloads. */
    charged: bytes.file + bytes.document + bytes.entries,
  };
}

describe.skipIf(!mongoUri)('hostile statements: every byte stored counts against its tenant', () => {
  const sys = useSystem({
    API_KEYS: `qa:${KEY_A},qb:${KEY_B}`,
    RETENTION_PROCESSED_SECONDS: '3600',
    RETENTION_DEAD_SECONDS: '3600',
    RETENTION_STATEMENTS_SECONDS: '3600',
  });

  const post = (url: string, key: string, body: string) =>
    fetch(`${url}/api/v1/statements`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml', authorization: `Bearer ${key}` },
      body,
    });

  /** Uploads statements (every other one without entries) until one is refused, at most `max`; the refusal and what was stored before it. */
  async function uploadUntilRefused(url: string, key: string, prefix: string, max = 40) {
    for (let i = 0; i < max; i++) {
      const answer = await post(url, key, statementXml(`${prefix}-${i}`, i % 2 === 0 ? 0 : 3));
      if (answer.status !== 202) return { accepted: i, answer };
      await answer.body?.cancel();
    }
    return { accepted: max, answer: undefined };
  }

  it("a tenant at its stored-statement bytes is refused 429 before anything is stored, another tenant is not, and retention's removal frees the room", async () => {
    const limit = 40_000;
    const { gatewayUrl } = await sys.start(['gateway', 'ingest'], { TENANT_MAX_STORED_STATEMENT_BYTES: String(limit) });
    const url = gatewayUrl!;
    const { accepted, answer } = await uploadUntilRefused(url, KEY_A, 'QA');
    const before = await storedOf(sys.mongo, 'qa');
    console.log(
      `[statement-quota] stored-statement limit ${limit} B: ${accepted} uploads accepted, kept ${before.kept} B (files ${before.bytes.file}, statements documents ${before.bytes.document}), ${(before.kept / limit).toFixed(2)} × the limit; refused: ${answer?.status}`,
    );
    expect(accepted).toBeGreaterThan(2);
    expect(answer?.status).toBe(429);
    expect(answer!.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await answer!.json()) as { type: string; detail: string };
    expect(problem.type).toBe('/problems/stored-statement-bytes-quota');
    expect(problem.detail).toContain('TENANT_MAX_STORED_STATEMENT_BYTES');
    // Waiting helps: the oldest upload's file goes an hour (RETENTION_STATEMENTS_SECONDS) after it came.
    const retryAfter = Number(answer!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(before.kept).toBeLessThanOrEqual(limit);

    // Refused again, with and without entries: nothing more is stored, not a file, not a chunk, not a document.
    for (const [id, entries] of [
      ['QA-X0', 0],
      ['QA-X3', 3],
    ] as const) {
      const refused = await post(url, KEY_A, statementXml(id, entries));
      expect(refused.status).toBe(429);
      await refused.body?.cancel();
    }
    expect((await storedOf(sys.mongo, 'qa')).counts).toEqual(before.counts);

    // The other tenant's uploads are its own.
    const other = await post(url, KEY_B, statementXml('QB-0', 3));
    expect(other.status).toBe(202);
    await other.body?.cancel();

    // Retention: the files uploaded "two hours ago" go at a processor's start (its sweep), the statements
    // documents whose retention started then by the TTL index; then the tenant has room again.
    const twoHoursAgo = new Date(Date.now() - 7_200_000);
    const ids = (await sys.mongo.statements.find({ tenantId: 'qa' }, { projection: { _id: 1 } }).toArray()).map((s) => s._id);
    await sys.mongo.db
      .collection(`${STATEMENT_FILES_BUCKET}.files`)
      .updateMany({ _id: { $in: ids } }, { $set: { uploadDate: twoHoursAgo } });
    await sys.start(['processor']);
    await waitFor('the expired files removed', async () => (await storedOf(sys.mongo, 'qa')).counts.files === 0);
    // Their bytes are released with them: only the statements documents are still counted, and there is room.
    expect(await sys.mongo.statements.countDocuments({ tenantId: 'qa', fileBytes: { $gt: 0 } })).toBe(0);
    const afterFiles = await post(url, KEY_A, statementXml('QA-AFTER-FILES', 3));
    expect(afterFiles.status).toBe(202);
    await afterFiles.body?.cancel();
    // Entries settle (each moves its statement's retention on), then the old statements' retention is let lapse.
    await waitFor('the entries processed', async () => (await sys.mongo.raw.countDocuments({ tenantId: 'qa', processed: false })) === 0);
    await sys.mongo.statements.updateMany({ _id: { $in: ids } }, { $set: { retainFrom: twoHoursAgo } });
    await waitFor('the statements documents expired', async () => (await sys.mongo.statements.countDocuments({ _id: { $in: ids } })) === 0);
    // Now the whole limit is free again, but for the one upload since: about as many uploads fit as at first (ids a little longer).
    const { accepted: again } = await uploadUntilRefused(url, KEY_A, 'QA-AGAIN');
    expect(again).toBeGreaterThanOrEqual(accepted - 2);
  }, 120_000);

  it('the bytes of the day count the file, the statements document and the entries; a statement without entries too', async () => {
    const limit = 30_000;
    const { gatewayUrl } = await sys.start(['gateway', 'ingest'], { TENANT_MAX_BYTES_PER_DAY: String(limit) });
    const { accepted, answer } = await uploadUntilRefused(gatewayUrl!, KEY_A, 'QD');
    const stored = await storedOf(sys.mongo, 'qa');
    console.log(
      `[statement-quota] daily limit ${limit} B: ${accepted} uploads accepted, stored ${stored.charged} B (files ${stored.bytes.file}, statements documents ${stored.bytes.document}, entries' payloads ${stored.bytes.entries}; entries' documents whole ${stored.bytes.entryDocuments}), ${(stored.charged / limit).toFixed(2)} × the limit; refused: ${answer?.status}`,
    );
    expect(answer?.status).toBe(429);
    expect(((await answer!.json()) as { type: string }).type).toBe('/problems/daily-bytes-quota');
    expect(stored.charged).toBeLessThanOrEqual(limit);
    const refused = await post(gatewayUrl!, KEY_A, statementXml('QD-X0', 0));
    expect(refused.status).toBe(429);
    await refused.body?.cancel();
    expect((await storedOf(sys.mongo, 'qa')).counts).toEqual(stored.counts);
    const other = await post(gatewayUrl!, KEY_B, statementXml('QD-B', 0));
    expect(other.status).toBe(202);
    await other.body?.cancel();
  }, 60_000);

  it('an upload larger than a byte quota by itself is 413 naming the setting, and nothing of it is stored', async () => {
    const { gatewayUrl } = await sys.start(['gateway', 'ingest'], { TENANT_MAX_STORED_STATEMENT_BYTES: '4000' });
    const answer = await post(gatewayUrl!, KEY_A, statementXml('QL-0', 20));
    expect(answer.status).toBe(413);
    const problem = (await answer.json()) as { type: string; detail: string };
    expect(problem.type).toBe('/problems/stored-statement-bytes-quota');
    expect(problem.detail).toContain('TENANT_MAX_STORED_STATEMENT_BYTES');
    expect((await storedOf(sys.mongo, 'qa')).counts).toEqual({ statements: 0, files: 0, chunks: 0, entries: 0 });
  }, 30_000);
});
