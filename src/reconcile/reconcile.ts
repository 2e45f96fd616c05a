// Checks that what was accepted is what was written: the raw documents of a range of days against the rows,
// per tenant, source and UTC day, listing every document or row that does not add up (docs/operations.md).

import { MONGO_DEADLINES_MS, withinDeadline } from '../db/mongo.js';
import type { Database } from '../db/postgres.js';
import type { DaySummary, Mismatch } from '../domain/reconciliation.js';
import { isRemoval, type Mapped, type Transaction } from '../domain/transaction.js';
import { compareKeys } from '../mapping/revision-plan.js';
import { rawInputOf, transformRaw } from '../mapping/transform/index.js';
import { findDuplicateObjects } from '../pg-store/find-duplicate-objects.js';
import { readDocumentRows } from '../pg-store/read-document-rows.js';
import { type Explanation, readExplanations } from '../pg-store/read-explanations.js';
import { readRangeRows } from '../pg-store/read-range-rows.js';
import { readRevisionLinks } from '../pg-store/read-revision-links.js';
import type { Amounted, ReconciledRow } from '../pg-store/rows.js';
import type { MongoCollections, RawTransaction } from '../raw-store/collections.js';
import { existingIds } from '../raw-store/existing-ids.js';
import { findDocumentsByIds } from '../raw-store/find-by-ids.js';
import { iterateReceivedBetween } from '../raw-store/received-between.js';
import { resolveStatementParts } from '../raw-store/statement-parts.js';

export interface ReconcileOptions {
  tenantId?: string;
  source?: string;
  /** receivedAt range: from inclusive, to exclusive. */
  from: Date;
  to: Date;
  /** A document waiting longer than this is a mismatch. */
  waitingThresholdMs: number;
  /** Rows older than this may have lost their raw document to retention (RETENTION_PROCESSED_SECONDS). */
  retentionSeconds: number;
  now?: Date;
  signal?: AbortSignal;
}

const CHUNK = 1_000;
export const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** The summaries by day, tenant and source, and every mismatch, each once. */
export async function reconcile(
  mongo: MongoCollections,
  db: Database,
  options: ReconcileOptions,
): Promise<{ days: DaySummary[]; mismatches: Mismatch[] }> {
  const days = new Map<string, DaySummary>();
  const mismatches: Mismatch[] = [];
  const summaryOf = (day: string, tenantId: string, source: string) => {
    const key = JSON.stringify([day, tenantId, source]);
    let summary = days.get(key);
    if (!summary) {
      summary = {
        day,
        tenantId,
        source,
        accepted: 0,
        processed: 0,
        failed: 0,
        dead: 0,
        waiting: 0,
        oldestWaitingAt: null,
        rows: 0,
        revisions: 0,
        voids: 0,
        replaced: 0,
        aliases: 0,
        sums: [],
      };
      days.set(key, summary);
    }
    return summary;
  };
  await checkDocuments(mongo, db, options, summaryOf, mismatches);
  await checkRows(mongo, db, options, summaryOf, mismatches);
  mismatches.push(...(await duplicateObjects(db, options)));
  return {
    days: [...days.values()].sort((a, b) =>
      JSON.stringify([a.day, a.tenantId, a.source]).localeCompare(JSON.stringify([b.day, b.tenantId, b.source])),
    ),
    mismatches,
  };
}

type SummaryOf = (day: string, tenantId: string, source: string) => DaySummary;

/** The documents of the range, a chunk at a time: counted, and each checked against what PostgreSQL holds. */
async function checkDocuments(mongo: MongoCollections, db: Database, options: ReconcileOptions, summaryOf: SummaryOf, out: Mismatch[]) {
  let chunk: RawTransaction[] = [];
  for await (const doc of iterateReceivedBetween(mongo.raw, options, { pageSize: CHUNK })) {
    chunk.push(doc);
    if (chunk.length < CHUNK) continue;
    options.signal?.throwIfAborted();
    await checkDocumentChunk(mongo, db, chunk, options, summaryOf, out);
    chunk = [];
  }
  if (chunk.length) await checkDocumentChunk(mongo, db, chunk, options, summaryOf, out);
}

async function checkDocumentChunk(
  mongo: MongoCollections,
  db: Database,
  docs: RawTransaction[],
  options: ReconcileOptions,
  summaryOf: SummaryOf,
  out: Mismatch[],
) {
  const now = options.now ?? new Date();
  // Statement entries are stored without their account; mapped again, they read it from their statements.
  await withinDeadline(MONGO_DEADLINES_MS.reconcile, (bound) => resolveStatementParts(mongo.statements, docs, bound));
  const ids = docs.map((doc) => doc._id.toHexString());
  const rows = new Map((await readDocumentRows(db, ids)).map((row) => [row.raw_id, row] as const));
  const explainedBy = await explanations(db, ids);
  const revisionsOf = await revisionDocuments(mongo, db, [...rows.values()], docs);
  for (const doc of docs) {
    const id = doc._id.toHexString();
    const at = { id, tenantId: doc.tenantId, source: doc.source, day: dayOf(doc.receivedAt) };
    const summary = summaryOf(at.day, doc.tenantId, doc.source);
    const row = rows.get(id);
    summary.accepted++;
    if (doc.processed) {
      summary.processed++;
      const by = row ? undefined : explainedBy.get(id);
      if (by) summary[by]++;
      else if (!row) {
        out.push({ ...at, kind: 'processed-without-row', detail: 'processed, but no row, alias, revision or removal has its id' });
        const own = expectedOf(doc, undefined, revisionsOf);
        if (typeof own === 'object') addSum(summary, own, 'documents');
      }
      // A document another row accounts for (a revision, an alias, a removal) is compared through that row.
      if (!row) continue;
      const expected = expectedOf(doc, row, revisionsOf);
      addSum(summary, row, 'rows');
      if (typeof expected === 'string') out.push({ ...at, kind: 'differs-from-document', detail: expected });
      else if (expected) {
        addSum(summary, expected, 'documents');
        const differs = differenceOf(row, expected);
        if (differs) out.push({ ...at, kind: 'differs-from-document', detail: differs });
      }
      continue;
    }
    countWaiting(doc, summary, now, options, at, out);
    if (row) {
      addSum(summary, row, 'rows');
      out.push({ ...at, kind: 'row-without-processed-document', detail: `a row exists, but the document is ${doc.status}` });
    }
  }
}

function countWaiting(
  doc: RawTransaction,
  summary: DaySummary,
  now: Date,
  options: ReconcileOptions,
  at: Omit<Mismatch, 'kind' | 'detail'>,
  out: Mismatch[],
) {
  if (doc.status === 'failed') summary.failed++;
  if (doc.status === 'dead') summary.dead++;
  if (doc.status !== 'pending' && doc.status !== 'failed') return;
  summary.waiting++;
  if (!summary.oldestWaitingAt || doc.receivedAt.toISOString() < summary.oldestWaitingAt)
    summary.oldestWaitingAt = doc.receivedAt.toISOString();
  const waitedMs = now.getTime() - doc.receivedAt.getTime();
  if (waitedMs > options.waitingThresholdMs)
    out.push({
      ...at,
      kind: 'waiting-too-long',
      detail: `waiting ${Math.round(waitedMs / 60_000)} min (threshold ${Math.round(options.waitingThresholdMs / 60_000)} min)`,
    });
}

/** A revision and a removal also leave an alias: the first kind here names what a document was. */
const PRECEDENCE: Explanation[] = ['voids', 'revisions', 'replaced', 'aliases'];

/** What accounts for each of these documents, when a row other than its own does. */
async function explanations(db: Database, ids: string[]): Promise<Map<string, Explanation>> {
  const byId = new Map<string, Explanation>();
  for (const { raw_id, kind } of await readExplanations(db, ids)) {
    const known = byId.get(raw_id);
    if (!known || PRECEDENCE.indexOf(kind) < PRECEDENCE.indexOf(known)) byId.set(raw_id, kind);
  }
  return byId;
}

/**
 * The documents each provider object's row was built from (its own and its revisions'), by row id: read
 * again from MongoDB, so that the row is compared with its latest revision as today's mappers see it.
 */
async function revisionDocuments(mongo: MongoCollections, db: Database, rows: ReconciledRow[], chunk: RawTransaction[]) {
  const byRow = new Map<string, RawTransaction[]>();
  const objects = new Map(rows.filter((row) => row.provider_ref !== null).map((row) => [row.id, row.raw_id]));
  if (objects.size === 0) return byRow;
  const links = await readRevisionLinks(db, [...objects.keys()]);
  const known = new Map(chunk.map((doc) => [doc._id.toHexString(), doc]));
  const missing = [...new Set(links.map((link) => link.raw_id))].filter((id) => !known.has(id));
  const more = await findDocumentsByIds(mongo.raw, missing);
  if (more.length) {
    await withinDeadline(MONGO_DEADLINES_MS.reconcile, (bound) => resolveStatementParts(mongo.statements, more, bound));
    for (const doc of more) known.set(doc._id.toHexString(), doc);
  }
  for (const [rowId, rawId] of objects) byRow.set(rowId, known.has(rawId) ? [known.get(rawId)!] : []);
  for (const link of links) {
    const doc = known.get(link.raw_id);
    if (doc && link.raw_id !== objects.get(link.transaction_id)) byRow.get(link.transaction_id)!.push(doc);
  }
  return byRow;
}

/**
 * What the document says its row should hold, mapped again with today's mappers (never trusting the row):
 * a plain row its own document; a provider object's row its latest revision, or void once one removed it.
 * A string when today's mapper refuses a document; undefined when there is nothing to compare.
 */
function expectedOf(
  doc: RawTransaction,
  row: ReconciledRow | undefined,
  revisionsOf: Map<string, RawTransaction[]>,
): Amounted | string | undefined {
  const documents = row && row.provider_ref !== null ? (revisionsOf.get(row.id) ?? []) : [doc];
  let latest: Transaction | undefined;
  let removed = false;
  for (const document of documents) {
    let mapped: Mapped;
    try {
      mapped = transformRaw(rawInputOf(document));
    } catch (error) {
      return `today's ${document.source} mapper refuses document ${document._id.toHexString()}: ${(error as Error).message}`;
    }
    if (isRemoval(mapped)) removed = true;
    else if (!latest || compareKeys(mapped.revisionKey ?? [], latest.revisionKey ?? []) > 0) latest = mapped;
  }
  if (!latest) return undefined;
  return {
    direction: latest.direction,
    amount: latest.amountMinor.toString(),
    currency: latest.currency,
    status: removed ? 'void' : latest.status,
  };
}

/** Each of the four fields that differs between the row and what its documents say, or undefined. */
function differenceOf(row: Amounted, expected: Amounted): string | undefined {
  const fields = (['direction', 'amount', 'currency', 'status'] as const).filter((key) => expected[key] !== row[key]);
  return fields.length ? fields.map((key) => `${key}: row ${row[key]}, document ${expected[key]}`).join('; ') : undefined;
}

/** Adds a live (not void) amount to its day's sum for its currency and direction, on the rows' or the documents' side. */
function addSum(summary: DaySummary, amounted: Amounted, side: 'rows' | 'documents') {
  if (amounted.status === 'void') return;
  let sum = summary.sums.find((s) => s.currency === amounted.currency && s.direction === amounted.direction);
  if (!sum) {
    sum = { currency: amounted.currency, direction: amounted.direction, rowsMinor: '0', documentsMinor: '0' };
    summary.sums.push(sum);
  }
  const key = side === 'rows' ? 'rowsMinor' : 'documentsMinor';
  sum[key] = (BigInt(sum[key]) + BigInt(amounted.amount)).toString();
}

/** The rows of the range, a chunk at a time: counted, and each looked for among the raw documents. */
async function checkRows(mongo: MongoCollections, db: Database, options: ReconcileOptions, summaryOf: SummaryOf, out: Mismatch[]) {
  const retainedUntil = (options.now ?? new Date()).getTime() - options.retentionSeconds * 1000;
  let after = '0';
  for (;;) {
    const rows = await readRangeRows(db, options, after, CHUNK);
    if (rows.length === 0) return;
    options.signal?.throwIfAborted();
    after = rows.at(-1)!.id;
    const found = await existingIds(
      mongo.raw,
      rows.map((row) => row.raw_id),
    );
    for (const row of rows) {
      const summary = summaryOf(dayOf(row.received_at), row.tenant_id, row.source);
      summary.rows++;
      // Retention removes processed documents once they are older than its period: their rows stand alone
      // (and out of the sums, which compare rows with documents).
      if (found.has(row.raw_id) || row.created_at.getTime() < retainedUntil) continue;
      addSum(summary, row, 'rows');
      out.push({
        id: row.raw_id,
        kind: 'row-without-document',
        tenantId: row.tenant_id,
        source: row.source,
        day: dayOf(row.received_at),
        detail: `row ${row.id} has no raw document, and retention cannot have removed it yet`,
      });
    }
  }
}

/** Two live rows for one provider object (the unique key forbids it; a hand-made fix might not). */
async function duplicateObjects(db: Database, options: ReconcileOptions): Promise<Mismatch[]> {
  const groups = await findDuplicateObjects(db, options);
  return groups.flatMap((group) =>
    group.raw_ids.slice(1).map((id, i) => ({
      id,
      kind: 'duplicate-provider-object' as const,
      tenantId: group.tenant_id,
      source: group.source,
      day: dayOf(group.received[i + 1]!),
      detail: `a second live row for ${group.provider_ref} (the first: ${group.raw_ids[0]})`,
    })),
  );
}
