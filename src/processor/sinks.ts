// Where a batch's effects go: the raw store (claim, mark, log, checkpoint) and PostgreSQL (the rows).
// Each sink is one call of an adapter; the leases it takes and gives up are kept by Leases for the shutdown.
import type { ProcessorSettings } from '../config/config.js';
import { MONGO_DEADLINES_MS, withinDeadline } from '../db/mongo.js';
import type { Database } from '../db/postgres.js';
import type { Mapped } from '../domain/transaction.js';
import { rawInputOf, transformRaw } from '../mapping/transform/index.js';
import { type ClaimedRaw, claimBatch } from '../raw-store/claim.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { markFailed } from '../raw-store/mark-failed.js';
import { markProcessed } from '../raw-store/mark-processed.js';
import { releaseLeases } from '../raw-store/release-leases.js';
import { retainStatements } from '../raw-store/retain-statements.js';
import { resolveStatementParts } from '../raw-store/statement-parts.js';
import { writeLogs } from '../raw-store/write-logs.js';
import { backoffDelay } from '../streams/backoff.js';
import type { Failure, Sinks } from '../streams/pipeline.js';
import type { BatchSizer } from './batch-sizer.js';
import type { Leases } from './leases.js';
import { writeTransactions } from './transactions-writer.js';

/** An express batch (fair share's one batch beside the slots) holds this fraction of the byte budget. */
export const EXPRESS_BYTES_DIVISOR = 8;

/** Each MongoDB call of a batch stage has this long: a server that stops answering cannot hold a slot for ever. */
const DEADLINE_MS = MONGO_DEADLINES_MS.processor;

export interface SinkOptions {
  mongo: MongoCollections;
  db: Database;
  settings: Pick<ProcessorSettings, 'workerId' | 'leaseMs' | 'retryBaseMs' | 'retryMaxMs'>;
  /** What this worker holds leases on. */
  leases: Leases;
  /** The byte budget: each claim's cap, and learns from its documents how many ids the next batch takes. */
  sizer: BatchSizer;
  saveCheckpoint(resumeToken: unknown): Promise<void>;
}

const rawOf = (docs: ClaimedRaw[]) => docs.map((doc) => doc.raw);

export function processorSinks(options: SinkOptions): Sinks<ClaimedRaw, Mapped> {
  const { mongo, db, settings, leases, saveCheckpoint } = options;
  const worker = settings.workerId;
  return {
    claim: (ids, { express }) => claimDocs(options, ids, express),
    transform: (doc) => transformRaw(rawInputOf(doc.raw)),
    writeBatch: (rows) => writeTransactions(db, rows),
    markProcessed: async (docs) => {
      const ids = docs.map((doc) => doc.id);
      // Their statements first, from the same time: an entry's retention never ends after its statement's.
      const at = new Date();
      await withinDeadline(DEADLINE_MS, (bound) => retainStatements(mongo.statements, rawOf(docs), at, bound));
      await withinDeadline(DEADLINE_MS, (bound) => markProcessed(mongo.raw, ids, at, bound));
      leases.release(docs.map((doc) => doc.id));
    },
    markFailed: (failures) => markFailedDocs(options, failures),
    log: (entries) => {
      const logs = entries.map(({ doc, outcome, batchId, durationMs, latencyMs, error }) => ({
        rawId: doc.id,
        tenantId: doc.raw.tenantId,
        outcome,
        batchId,
        durationMs,
        latencyMs,
        error,
      }));
      return withinDeadline(DEADLINE_MS, (bound) => writeLogs(mongo.logs, logs, worker, new Date(), bound));
    },
    checkpoint: saveCheckpoint,
  };
}

/** Claims the documents within the byte budget, and gives their statements' accounts back to entries. */
async function claimDocs({ mongo, settings, leases, sizer }: SinkOptions, ids: string[], express: boolean): Promise<ClaimedRaw[]> {
  const worker = settings.workerId;
  const maxBytes = express ? Math.floor(sizer.maxBytes / EXPRESS_BYTES_DIVISOR) : sizer.maxBytes;
  const docs = await withinDeadline(DEADLINE_MS, (bound) =>
    claimBatch(mongo.raw, ids, { worker, leaseMs: settings.leaseMs, maxBytes }, bound),
  );
  leases.hold(docs.map((doc) => doc.id));
  try {
    // Statement entries are stored without their account: the batch's statements give it back, in one query.
    await withinDeadline(DEADLINE_MS, (bound) =>
      resolveStatementParts(
        mongo.statements,
        docs.map((doc) => doc.raw),
        bound,
      ),
    );
  } catch (error) {
    // The claim is retried: it can take these again only once their leases are given back.
    const taken = docs.map((doc) => doc.id);
    await releaseLeases(mongo.raw, taken, worker).catch(() => undefined);
    leases.release(taken);
    throw error;
  }
  if (!express) sizer.observe(docs.map((doc) => doc.bytes));
  return docs;
}

/** Marks the documents failed (retried after a backoff) or dead, keeping their statements. */
async function markFailedDocs({ mongo, settings, leases }: SinkOptions, failures: Array<Failure<ClaimedRaw>>): Promise<void> {
  const at = new Date();
  const now = at.getTime();
  // A failed entry is retried, a dead one may be replayed: each needs its statement (its account) kept.
  await withinDeadline(DEADLINE_MS, (bound) => retainStatements(mongo.statements, rawOf(failures.map(({ doc }) => doc)), at, bound));
  const marks = failures.map(({ doc, error, outcome }) => ({
    id: doc.id,
    outcome,
    error,
    retryAt: new Date(now + backoffDelay(doc.attempts + 1, { baseMs: settings.retryBaseMs, maxMs: settings.retryMaxMs })),
    leaseToken: doc.raw.leaseToken,
  }));
  await withinDeadline(DEADLINE_MS, (bound) => markFailed(mongo.raw, marks, bound, at));
  leases.release(failures.map(({ doc }) => doc.id));
}
