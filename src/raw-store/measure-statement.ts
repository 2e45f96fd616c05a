// What one statement upload makes MongoDB store, measured before anything of it is: the file as sent (GridFS,
// its chunks' and files document's own bytes with it), the statements document as it will be once complete,
// and each entry's payload. The gateway's quotas charge all of it (docs/api.md "Limits"); insertStatement
// refuses what MongoDB could not hold from the same figures, measured once per parsed file.
import { randomUUID } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { calculateObjectSize } from 'bson';
import { ObjectId } from 'mongodb';
import { type CamtDocument, type CamtStatement, type EntryPart, entryParts } from '../domain/camt053-xml.js';
import { storedPayloadBytes } from '../domain/envelope.js';
import type { StatementFile } from './collections.js';
import { storedFileBytes } from './statement-files.js';

/** An entry as stored, with its size as stored (BSON): measured once, checked before anything is stored, stamped as `bytes`. */
export type SizedPart = { payload: EntryPart; bytes: number };

/** What an upload stores, in bytes (BSON, as MongoDB counts them). */
export interface StatementBytes {
  /** The file in GridFS: its bytes as sent, with its chunks' and files document's. */
  file: number;
  /** The statements document, as it will be once complete (every entry's id in it). */
  document: number;
  /** The entries' payloads, as their raw documents' `bytes` say (what a single POST's document counts). */
  entries: number;
}

export type Lease = NonNullable<StatementFile['storing']>;

/** A statement's identity: its account and Stmt/Id, whatever the file's version. */
export const statementKeyOf = (stmt: Pick<CamtStatement, 'accountRef' | 'id'>) => [stmt.accountRef, stmt.id] as const;

/** An upload's identity: the tenant and its statements, in any order and version. */
export const uploadKeyOf = (tenantId: string, file: CamtDocument) =>
  JSON.stringify([tenantId, ...file.statements.map(statementKeyOf).sort()]);

/** How long measuring entries may hold the event loop before other work runs (the parser's slices are as long). */
const SLICE_MS = 10;

/** A parsed file's entries as measured: the gateway measures, an ingestion in the same process reuses it. */
const measured = new WeakMap<CamtDocument, SizedPart[][]>();

/** Each statement's entries as stored, with their sizes: in slices, as 40,000 entries take some 230 ms to measure. */
export async function sizedPartsOf(file: CamtDocument): Promise<SizedPart[][]> {
  const known = measured.get(file);
  if (known) return known;
  const all: SizedPart[][] = [];
  let sliceStart = performance.now();
  for (const stmt of file.statements) {
    const sized: SizedPart[] = [];
    for (const payload of entryParts(stmt)) {
      sized.push({ payload, bytes: storedPayloadBytes(payload) });
      if (performance.now() - sliceStart < SLICE_MS) continue;
      await setImmediate();
      sliceStart = performance.now();
    }
    all.push(sized);
  }
  measured.set(file, all);
  return all;
}

/** The statements document the first send creates: the statements' shared parts, once, its lease, and what it stores. */
export function statementsDocument(
  tenantId: string,
  file: CamtDocument,
  xml: string,
  lease: Lease,
  now = new Date(),
): Omit<StatementFile, '_id'> {
  const doc: Omit<StatementFile, '_id'> = {
    tenantId,
    key: uploadKeyOf(tenantId, file),
    version: file.version,
    messageId: file.messageId,
    statements: file.statements.map((s) => ({
      id: s.id,
      accountRef: s.accountRef,
      entryCount: s.entries.length,
      balances: s.balances,
      account: s.account,
    })),
    receivedAt: now,
    // Retention counts from here, moved on as its entries settle (raw-store/retain-statements.ts).
    retainFrom: now,
    fileId: null,
    complete: false,
    storing: lease,
    // What the stored-statement quota sums (stored-statement-bytes.ts): set before the file is written.
    fileBytes: storedFileBytes(Buffer.byteLength(xml, 'utf8')),
    bytes: 0,
  };
  doc.bytes = completeDocumentBytes(
    doc,
    file.statements.reduce((n, s) => n + s.entries.length, 0),
  );
  return doc;
}

/** The statements document's size once complete: a file id, every entry's id (none larger than an ObjectId), the flags set on the way. */
export function completeDocumentBytes(doc: Omit<StatementFile, '_id'>, entries: number): number {
  return calculateObjectSize({
    ...doc,
    fileId: new ObjectId(),
    entryIds: new Array<ObjectId>(entries).fill(new ObjectId()),
    eventPending: true,
  });
}

/** What storing this upload will add to MongoDB, before any of it is stored (the entries measured once, in slices). */
export async function measureStatement(tenantId: string, file: CamtDocument, xml: string): Promise<StatementBytes> {
  const parts = await sizedPartsOf(file);
  const doc = statementsDocument(tenantId, file, xml, { token: randomUUID(), until: new Date() });
  const entries = parts.reduce((sum, sized) => sized.reduce((n, { bytes }) => n + bytes, sum), 0);
  return { file: doc.fileBytes!, document: doc.bytes!, entries };
}
