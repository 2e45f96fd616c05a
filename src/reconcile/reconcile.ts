// Checks that what was accepted is what was written: the raw documents of a range of days against the rows,
// per tenant, source and UTC day, listing every document or row that does not add up (docs/operations.md).
import { ObjectId } from 'mongodb';
import type { Database } from '../db/postgres.js';
import { isRemoval } from '../domain/transaction.js';
import { rawInputOf, transformRaw } from '../processor/transform/index.js';
import type { MongoCollections, RawTransaction } from '../raw-store/collections.js';

export const MISMATCH_KINDS = [
  'processed-without-row',
  'row-without-processed-document',
  'differs-from-document',
  'duplicate-provider-object',
  'row-without-document',
  'waiting-too-long',
] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface Mismatch {
  id: string;
  kind: MismatchKind;
  tenantId: string;
  source: string;
  detail: string;
}

export interface DaySummary {
  day: string;
  tenantId: string;
  source: string;
  accepted: number;
  processed: number;
  failed: number;
  dead: number;
  waiting: number;
  oldestWaitingAt: string | null;
  rows: number;
}

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
}

const CHUNK = 1_000;
const dayOf = (at: Date) => at.toISOString().slice(0, 10);

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
      summary = { day, tenantId, source, accepted: 0, processed: 0, failed: 0, dead: 0, waiting: 0, oldestWaitingAt: null, rows: 0 };
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
  const filter = {
    receivedAt: { $gte: options.from, $lt: options.to },
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
    ...(options.source ? { source: options.source } : {}),
  };
  let chunk: RawTransaction[] = [];
  for await (const doc of mongo.raw.find(filter, { sort: { _id: 1 } })) {
    chunk.push(doc);
    if (chunk.length < CHUNK) continue;
    await checkDocumentChunk(db, chunk, options, summaryOf, out);
    chunk = [];
  }
  if (chunk.length) await checkDocumentChunk(db, chunk, options, summaryOf, out);
}

async function checkDocumentChunk(db: Database, docs: RawTransaction[], options: ReconcileOptions, summaryOf: SummaryOf, out: Mismatch[]) {
  const now = options.now ?? new Date();
  const ids = docs.map((doc) => doc._id.toHexString());
  const rows = new Map(await db.map(ROWS_SQL, [ids], (row: PlainRow) => [row.raw_id, row] as const));
  const explained = new Set([...rows.keys(), ...(await db.map(EXPLAINED_SQL, [ids], (row: { raw_id: string }) => row.raw_id))]);
  for (const doc of docs) {
    const id = doc._id.toHexString();
    const at = { id, tenantId: doc.tenantId, source: doc.source };
    const summary = summaryOf(dayOf(doc.receivedAt), doc.tenantId, doc.source);
    summary.accepted++;
    if (doc.processed) {
      summary.processed++;
      if (!explained.has(id))
        out.push({ ...at, kind: 'processed-without-row', detail: 'processed, but no row, alias, revision or removal has its id' });
      const differs = rows.has(id) ? differenceOf(doc, rows.get(id)!) : undefined;
      if (differs) out.push({ ...at, kind: 'differs-from-document', detail: differs });
      continue;
    }
    if (doc.status === 'failed') summary.failed++;
    if (doc.status === 'dead') summary.dead++;
    if (doc.status === 'pending' || doc.status === 'failed') {
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
    if (rows.has(id))
      out.push({ ...at, kind: 'row-without-processed-document', detail: `a row exists, but the document is ${doc.status}` });
  }
}

/** Raw ids a row accounts for besides its own (ROWS_SQL): a replaced pending row's, an alias, a revision, a removal. */
const EXPLAINED_SQL = `
  SELECT superseded_raw_id AS raw_id FROM transactions WHERE superseded_raw_id = ANY($1::text[])
  UNION SELECT raw_id FROM transaction_aliases WHERE raw_id = ANY($1::text[])
  UNION SELECT raw_id FROM transaction_revisions WHERE raw_id = ANY($1::text[])
  UNION SELECT raw_id FROM transaction_removals WHERE raw_id = ANY($1::text[])`;

interface PlainRow {
  raw_id: string;
  provider_ref: string | null;
  direction: string;
  amount_minor: string;
  currency: string;
  status: string;
}
const ROWS_SQL = `SELECT raw_id, provider_ref, direction, amount_minor::text, currency, status FROM transactions WHERE raw_id = ANY($1::text[])`;

/**
 * What differs between a plain row and the document mapped again with today's mappers (never trusting the
 * row). A provider object's row holds its latest revision, which one document alone does not give: not compared.
 */
function differenceOf(doc: RawTransaction, row: PlainRow): string | undefined {
  if (row.provider_ref !== null) return undefined;
  let mapped: ReturnType<typeof transformRaw>;
  try {
    mapped = transformRaw(rawInputOf(doc));
  } catch (error) {
    return `today's ${doc.source} mapper refuses the document: ${(error as Error).message}`;
  }
  if (isRemoval(mapped)) return undefined;
  const expected = { direction: mapped.direction, amount: mapped.amountMinor.toString(), currency: mapped.currency, status: mapped.status };
  const actual = { direction: row.direction, amount: row.amount_minor, currency: row.currency, status: row.status };
  const fields = (Object.keys(expected) as Array<keyof typeof expected>).filter((key) => expected[key] !== actual[key]);
  return fields.length ? fields.map((key) => `${key}: row ${actual[key]}, document ${expected[key]}`).join('; ') : undefined;
}

/** The rows of the range, a chunk at a time: counted, and each looked for among the raw documents. */
async function checkRows(mongo: MongoCollections, db: Database, options: ReconcileOptions, summaryOf: SummaryOf, out: Mismatch[]) {
  const retainedUntil = (options.now ?? new Date()).getTime() - options.retentionSeconds * 1000;
  let after = '0';
  for (;;) {
    const rows = await db.any<{ id: string; raw_id: string; tenant_id: string; source: string; received_at: Date; created_at: Date }>(
      `SELECT id::text, raw_id, tenant_id, source, received_at, created_at FROM transactions
        WHERE id > $1::bigint AND received_at >= $2 AND received_at < $3
          AND ($4::text IS NULL OR tenant_id = $4) AND ($5::text IS NULL OR source = $5)
        ORDER BY transactions.id LIMIT ${CHUNK}`,
      [after, options.from, options.to, options.tenantId ?? null, options.source ?? null],
    );
    if (rows.length === 0) return;
    after = rows.at(-1)!.id;
    const ids = rows.map((row) => row.raw_id).filter((id) => ObjectId.isValid(id) && id.length === 24);
    const found = new Set(
      (await mongo.raw.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }, { projection: { _id: 1 } }).toArray()).map((d) =>
        d._id.toHexString(),
      ),
    );
    for (const row of rows) {
      summaryOf(dayOf(row.received_at), row.tenant_id, row.source).rows++;
      // Retention removes processed documents once they are older than its period: their rows stand alone.
      if (found.has(row.raw_id) || row.created_at.getTime() < retainedUntil) continue;
      out.push({
        id: row.raw_id,
        kind: 'row-without-document',
        tenantId: row.tenant_id,
        source: row.source,
        detail: `row ${row.id} has no raw document, and retention cannot have removed it yet`,
      });
    }
  }
}

/** Two live rows for one provider object (the unique key forbids it; a hand-made fix might not). */
async function duplicateObjects(db: Database, options: ReconcileOptions): Promise<Mismatch[]> {
  const groups = await db.any<{ tenant_id: string; source: string; provider_ref: string; raw_ids: string[] }>(
    `SELECT tenant_id, source, provider_ref, array_agg(raw_id ORDER BY id) AS raw_ids FROM transactions
      WHERE provider_ref IS NOT NULL AND status <> 'void' AND received_at >= $1 AND received_at < $2
        AND ($3::text IS NULL OR tenant_id = $3) AND ($4::text IS NULL OR source = $4)
      GROUP BY tenant_id, source, provider_ref HAVING count(*) > 1`,
    [options.from, options.to, options.tenantId ?? null, options.source ?? null],
  );
  return groups.flatMap((group) =>
    group.raw_ids.slice(1).map((id) => ({
      id,
      kind: 'duplicate-provider-object' as const,
      tenantId: group.tenant_id,
      source: group.source,
      detail: `a second live row for ${group.provider_ref} (the first: ${group.raw_ids[0]})`,
    })),
  );
}
