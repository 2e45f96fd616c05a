// The three collections the raw store owns, their document shapes and their indexes. Every query on
// them lives in this folder, one file per state transition.
import type { Collection, Db, Document, Filter, MongoClient, ObjectId } from 'mongodb';
import { connectMongoClient } from '../db/mongo.js';
import type { FeedMode } from '../domain/feed-mode.js';
import type { Outcome } from '../domain/outcome.js';

/** A raw document's status; its transitions are in states.ts. */
export const RAW_STATUSES = ['pending', 'processed', 'failed', 'dead'] as const;
export type RawStatus = (typeof RAW_STATUSES)[number];

/** A transaction as it arrived: stored schema-free, processed later. */
export interface RawTransaction {
  _id: ObjectId;
  tenantId: string;
  source: string;
  externalId: string | null;
  /** Present only with an externalId: [tenantId, source, externalId] as JSON, unique (sparse index). */
  dedupKey?: string;
  payload: Record<string, unknown>;
  /**
   * The payload's size as stored (BSON bytes), stamped at insert: the waiting-bytes quota sums it
   * (count-unprocessed.ts). Absent on documents of earlier releases: they count 0.
   */
  bytes?: number;
  receivedAt: Date;
  processed: boolean;
  status: RawStatus;
  attempts: number;
  /** Lease: the worker holding the document, until when, and the token of the claim that took it. */
  leaseOwner?: string | null;
  leaseUntil?: Date | null;
  leaseToken?: string | null;
  lastError?: string | null;
  processedAt?: Date;
  /** When it was last marked dead: retention removes it RETENTION_DEAD_SECONDS later (unless replayed meanwhile). */
  deadAt?: Date;
  /** An entry of an uploaded camt.053 file: the statements document it came with. */
  statementId?: ObjectId;
  /**
   * Which of that document's `statements` the entry is in: its account is stored there, once, and put back
   * beside the entry for the mapper (statement-parts.ts). Absent on entries of earlier releases, which carry
   * their account in `payload.Acct`.
   */
  statementPart?: number;
  /** Payloads an operator replaced (the board's correction), oldest first, with who and when. */
  corrections?: Array<{ at: Date; by: string; previous: Record<string, unknown> }>;
  /**
   * Which of SLOTS hash slots the document falls in, drawn at insert: processors share the slots and each
   * claims only its own (processor/slot-owner.ts). Absent on documents of earlier releases: slot 0's.
   */
  slot?: number;
}

/** Hash slots of the key space, shared out among the processors of a group. */
export const SLOTS = 64;

/** A processor of a group, alive while it renews seenAt (its lease on a share of the slots). */
export interface ProcessorMember {
  /** The worker id. */
  _id: string;
  group: string;
  seenAt: Date;
}

export interface ProcessingLog {
  /** `<batchId>:<rawId>`: one entry per document per batch, so a retried insert cannot double it. */
  _id: string;
  rawId: ObjectId;
  tenantId: string;
  outcome: Outcome;
  /** Time the batch spent from claim to commit, and time since the document was received. */
  durationMs: number;
  latencyMs: number;
  worker: string;
  batchId: string;
  at: Date;
  error?: string;
  /** On a failed or dead entry until its event is recorded in PostgreSQL (processor/relay-failure-events.ts). */
  eventPending?: true;
}

export interface ProcessorCheckpoint {
  _id: string;
  resumeToken: unknown;
  worker: string;
  at: Date;
}

/** What a running processor last said of itself, for the board: how it is fed and how fresh its stream is. */
export interface ProcessorReport {
  /** The worker id. */
  _id: string;
  group: string;
  mode: FeedMode;
  lastEventAt: Date | null;
  lastCheckpointAt: Date | null;
  startedAt: Date;
  seenAt: Date;
}

/** An uploaded camt.053 file: what it holds, and where the file as sent is kept. */
export interface StatementFile {
  _id: ObjectId;
  tenantId: string;
  /** [tenantId, [account, Stmt/Id]…] as JSON, unique: the same statements in any version are one upload. */
  key: string;
  version: string;
  messageId: string | null;
  /** Each Stmt's shared parts, once: its account (Acct, servicer included; absent on uploads of earlier releases) and balances. */
  statements: Array<{ id: string; accountRef: string; entryCount: number; balances: unknown[]; account?: unknown }>;
  receivedAt: Date;
  /**
   * Retention (RETENTION_STATEMENTS_SECONDS) counts from here: when it was received, moved forward each time
   * one of its entries is processed, fails, dies or is replayed (retain-statements.ts), so it outlives every
   * entry that reads its account from it. Set from receivedAt at start on statements of earlier releases.
   */
  retainFrom?: Date;
  /** The file in the statement_files GridFS bucket; null until stored. */
  fileId: ObjectId | null;
  /** True once every entry's raw document is stored. */
  complete: boolean;
  /** The entries' raw document ids in file order, set once complete (absent on uploads stored before them). */
  entryIds?: Array<ObjectId | null>;
  /** Set once complete, until every entry is settled and its statement.processed event recorded (or not due). */
  eventPending?: true;
  /** While a send stores the upload (or the sweep removes a failed one's file): who, and until when at most. */
  storing?: { token: string; until: Date } | null;
  /** Incomplete, and its file removed by the sweep (remove-abandoned-files.ts); a later send clears it. */
  abandoned?: true;
  /**
   * What the upload stores, in bytes, for TENANT_MAX_STORED_STATEMENT_BYTES (stored-statement-bytes.ts): its
   * file in GridFS (0 once retention or the abandoned-file sweep removed it) and this document once complete.
   * Stamped before anything else is stored; absent (0) on uploads of earlier releases.
   */
  fileBytes?: number;
  bytes?: number;
}

/** What storing and reading statements needs. */
export interface StatementCollections {
  db: Db;
  raw: Collection<RawTransaction>;
  statements: Collection<StatementFile>;
}

export interface MongoCollections {
  raw: Collection<RawTransaction>;
  logs: Collection<ProcessingLog>;
  checkpoints: Collection<ProcessorCheckpoint>;
  processors: Collection<ProcessorReport>;
  members: Collection<ProcessorMember>;
  statements: Collection<StatementFile>;
}

export interface MongoConnection extends MongoCollections {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

export async function connectMongo(uri: string, dbName: string): Promise<MongoConnection> {
  const client = await connectMongoClient(uri);
  const db = client.db(dbName);
  return {
    client,
    db,
    raw: db.collection<RawTransaction>('raw_transactions'),
    logs: db.collection<ProcessingLog>('processing_logs'),
    checkpoints: db.collection<ProcessorCheckpoint>('processor_checkpoints'),
    processors: db.collection<ProcessorReport>('processor_reports'),
    members: db.collection<ProcessorMember>('processor_members'),
    statements: db.collection<StatementFile>(STATEMENTS_COLLECTION),
    close: () => client.close(),
  };
}

/**
 * The filter on the tenant whose documents a query may see: one tenant's, or every tenant's when there is
 * none (null or absent: an operator's key, the CLI, /metrics).
 */
export const tenantFilter = (tenantId?: string | null): { tenantId?: string } => (tenantId == null ? {} : { tenantId });

/**
 * How long MongoDB keeps what is done with: processed raw documents and processing_logs entries; statements
 * (their document and file) and dead raw documents, 0 or absent: for ever.
 */
export interface Retention {
  processedSeconds: number;
  logsSeconds: number;
  statementsSeconds?: number;
  deadSeconds?: number;
}

/** The uploads' statements documents. */
export const STATEMENTS_COLLECTION = 'statements';

/** The GridFS bucket holding uploaded statement files as sent. */
export const STATEMENT_FILES_BUCKET = 'statement_files';

/**
 * Indexes the sweep, the claim and the log lookups rely on, and the TTL indexes of retention;
 * createIndex is a no-op when present.
 */
export async function ensureMongoIndexes(mongo: MongoCollections, retention?: Retention): Promise<void> {
  // The backlog figures (countDocuments on the waiting states) read this one.
  await mongo.raw.createIndex({ processed: 1, status: 1, leaseUntil: 1 }, { name: 'sweep' });
  // The fair sweep's find({...claimable, tenantId}).sort({_id: 1}).limit(share), tenant by tenant: equality
  // on tenantId, then _id order, so each tenant's page is a walk of its own waiting documents that stops at
  // its share; and distinct('tenantId', {processed: false}), a distinct scan of the first key. Partial as
  // below. (Created first: the development MongoDB takes the first index that walks a query in _id order.)
  await mongo.raw.createIndex({ tenantId: 1, _id: 1 }, { name: 'waiting_by_tenant', partialFilterExpression: { processed: false } });
  // The sweep's find(claimable).sort({_id: 1}).limit(n): equality on processed, then the keys in _id order,
  // so the server walks waiting documents oldest first and stops after n, never sorting the backlog.
  // Partial: processed documents (the vast majority, over time) are not in it at all.
  await mongo.raw.createIndex({ processed: 1, _id: 1 }, { name: 'waiting_by_id', partialFilterExpression: { processed: false } });
  // With several processors, each one's sweep: find({...claimable, slot: {$in: its slots}}).sort({_id: 1}):
  // a walk per slot merged in _id order (SORT_MERGE), never the other processors' documents.
  await mongo.raw.createIndex({ slot: 1, _id: 1 }, { name: 'waiting_by_slot', partialFilterExpression: { processed: false } });
  await mongo.raw.createIndex({ leaseToken: 1 }, { name: 'claim', sparse: true });
  // Reconciliation reads a range of days' documents in this order (reconcile/reconcile.ts).
  await mongo.raw.createIndex({ receivedAt: 1, _id: 1 }, { name: 'by_received' });
  // A processor killed without leaving is gone from the group once its lease lapses; its entry is removed later.
  await mongo.members.createIndex({ seenAt: 1 }, { name: 'gone', expireAfterSeconds: 3600 });
  await mongo.logs.createIndex({ rawId: 1 }, { name: 'rawId' });
  // Failed and dead entries whose event is not in PostgreSQL yet: sparse, so it holds only those.
  await mongo.logs.createIndex({ eventPending: 1 }, { name: 'events_to_record', sparse: true });
  // A processor that stopped reporting (killed, scaled down) leaves the board after an hour.
  await mongo.processors.createIndex({ seenAt: 1 }, { name: 'gone', expireAfterSeconds: 3600 });
  // One raw document per (tenant, source, externalId): a resubmission gets the first one's id.
  await mongo.raw.createIndex({ dedupKey: 1 }, { name: 'dedup', unique: true, sparse: true });
  // One upload per set of statements (account + Stmt/Id), in whichever camt version it is sent.
  await mongo.statements.createIndex({ key: 1 }, { name: 'statement', unique: true });
  // Statements whose entries are not all settled yet: sparse, so it holds only those.
  await mongo.statements.createIndex({ eventPending: 1 }, { name: 'events_to_record', sparse: true });
  // The stored-statement quota's sum over one tenant's statements reads these keys only (stored-statement-bytes.ts).
  await mongo.statements.createIndex({ tenantId: 1, fileBytes: 1, bytes: 1 }, { name: 'stored_bytes_by_tenant' });
  if (retention) {
    // The server deletes a processed document once processedAt is older than the retention (its monitor runs
    // every 60 s). Partial on processed: failed and dead documents stay until replayed or purged. Their
    // external ids stay de-duplicated in PostgreSQL (transactions_tenant_source_external_key).
    await ensureTtlIndex(mongo.raw, 'retention', 'processedAt', retention.processedSeconds, { processed: true });
    await ensureTtlIndex(mongo.logs, 'retention', 'at', retention.logsSeconds);
    // Dead documents from when they died (a replay takes them out of the partial index); statements from
    // when their last entry settled, died or was replayed (retainFrom), their files from their upload by the
    // processors' sweep (processor/statement-file-retention.ts).
    await ensureTtlIndex(mongo.raw, 'dead_retention', 'deadAt', retention.deadSeconds ?? 0, { status: 'dead' });
    if (await ensureTtlIndex(mongo.statements, 'retention', 'retainFrom', retention.statementsSeconds ?? 0))
      await retainFromReceipt(mongo.statements);
  }
}

/**
 * Statements of earlier releases have no retainFrom, which the TTL index would keep for ever: theirs is
 * when they were received (their entries carry their account). Found through that index (a missing field
 * is indexed as null), so a start with none to set reads nothing.
 */
async function retainFromReceipt(statements: Collection<StatementFile>): Promise<void> {
  // null matches a missing field (the driver's types allow only a Date here).
  const without = { retainFrom: null } as unknown as Filter<StatementFile>;
  for (;;) {
    const page = await statements.find(without, { projection: { _id: 1, receivedAt: 1 }, limit: 1_000 }).toArray();
    if (page.length === 0) return;
    await statements.bulkWrite(
      page.map((doc) => ({ updateOne: { filter: { ...without, _id: doc._id }, update: { $set: { retainFrom: doc.receivedAt } } } })),
      { ordered: false },
    );
    if (page.length < 1_000) return;
  }
}

/**
 * A TTL index with this expiry (0: none, kept for ever); one with another expiry (the setting changed) or on
 * another field (an earlier release's) is replaced. True when the index is there.
 */
async function ensureTtlIndex<T extends Document>(
  collection: Collection<T>,
  name: string,
  field: string,
  expireAfterSeconds: number,
  partialFilterExpression?: Document,
): Promise<boolean> {
  const existing = (await collection.listIndexes().toArray()).find((index) => index.name === name);
  const same = existing?.expireAfterSeconds === expireAfterSeconds && existing?.key?.[field] === 1;
  if (existing && !same) await collection.dropIndex(name);
  if (same || expireAfterSeconds === 0) return same;
  await collection.createIndex(
    { [field]: 1 },
    { name, expireAfterSeconds, ...(partialFilterExpression ? { partialFilterExpression } : {}) },
  );
  return true;
}
