// The bytes each tenant had accepted today (UTC), for TENANT_MAX_BYTES_PER_DAY: one counter per tenant and
// day in MongoDB, shared by every gateway and surviving their restarts (a per-process count would reset at
// each deploy and multiply with the replicas), written once a second for all tenants together, never per request.
import type { Collection } from 'mongodb';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { TenantUsageDoc } from './accept-collections.js';

const DAY_MS = 86_400_000;

/** The UTC day of a moment, YYYY-MM-DD. */
export const utcDayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Whole seconds until the UTC day of `ms` ends (at least 1): a daily quota's Retry-After. */
export const secondsToNextUtcDay = (ms: number) => Math.max(1, Math.ceil((DAY_MS - (ms % DAY_MS)) / 1000));

interface Entry {
  tenantId: string;
  day: string;
  /** Every gateway's bytes of the day, as MongoDB last said. */
  total: number;
  /** Accepted here and not yet written. */
  pending: number;
  /** Asked for since the last write: its total is read again then. */
  touched: boolean;
  /** The first read of the day, awaited by the requests that arrive meanwhile. */
  first?: Promise<void>;
}

/**
 * Adds each tenant's bytes to its counters (one unordered bulk write of upserts), then reads them back (one
 * find): two round trips for every tenant at once. Returns each counter's total, by its _id.
 */
export async function addTenantBytes(
  usage: Collection<TenantUsageDoc>,
  adds: Array<{ tenantId: string; day: string; bytes: number }>,
): Promise<Map<string, number>> {
  const ids = adds.map(({ tenantId, day }) => JSON.stringify([tenantId, day]));
  try {
    await withinAcceptDeadline((bound) =>
      usage.bulkWrite(
        adds.map(({ tenantId, day, bytes }, i) => ({
          updateOne: {
            filter: { _id: ids[i]! },
            update: { $inc: { bytes }, $setOnInsert: { tenantId, day, expiresAt: new Date(Date.parse(day) + 2 * DAY_MS) } },
            upsert: true,
          },
        })),
        { ordered: false, ...bound },
      ),
    );
    const docs = await withinAcceptDeadline((bound) => usage.find({ _id: { $in: ids } }, { projection: { bytes: 1 }, ...bound }).toArray());
    return new Map(docs.map((doc) => [doc._id, doc.bytes]));
  } catch (error) {
    throw classifyMongoError(error);
  }
}

export type AddTenantBytes = (adds: Array<{ tenantId: string; day: string; bytes: number }>) => Promise<Map<string, number>>;

/**
 * This gateway's view of the tenants' bytes today: MongoDB's total as of the last write (at most a second
 * old for a tenant sending) plus what this gateway accepted since. Other gateways' acceptances of the last
 * second are not in it: N gateways may pass the quota by at most N - 1 seconds of a tenant's traffic.
 */
export class DailyBytes {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #writing?: Promise<void>;
  #timer?: NodeJS.Timeout;

  constructor(
    private readonly add: AddTenantBytes,
    { now = Date.now, writeEveryMs = 1_000 }: { now?: () => number; writeEveryMs?: number } = {},
  ) {
    this.#now = now;
    if (writeEveryMs > 0) {
      this.#timer = setInterval(() => void this.write().catch(() => undefined), writeEveryMs);
      this.#timer.unref();
    }
  }

  /** The tenant's bytes today, every gateway's; the first ask of a day on this gateway waits for MongoDB. */
  async today(tenantId: string): Promise<number> {
    const entry = this.#entryOf(tenantId, utcDayOf(this.#now()));
    entry.touched = true;
    if (entry.first) await entry.first;
    return entry.total + entry.pending;
  }

  /** Counts bytes this gateway accepted for the tenant today; written with the next round. */
  charge(tenantId: string, bytes: number): void {
    this.#entryOf(tenantId, utcDayOf(this.#now())).pending += bytes;
  }

  /** Writes what was accepted since the last round and reads the totals of the tenants asked for. */
  write(): Promise<void> {
    this.#writing ??= this.#writeRound().finally(() => {
      this.#writing = undefined;
    });
    return this.#writing;
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#writing?.catch(() => undefined);
    await this.write();
  }

  #entryOf(tenantId: string, day: string): Entry {
    const key = JSON.stringify([tenantId, day]);
    let entry = this.#entries.get(key);
    if (!entry) {
      const created: Entry = { tenantId, day, total: 0, pending: 0, touched: true };
      created.first = this.#read(key, created).finally(() => {
        created.first = undefined;
      });
      // A failed first read is not kept: the next request asks again.
      created.first.catch(() => this.#entries.delete(key));
      this.#entries.set(key, created);
      entry = created;
    }
    return entry;
  }

  async #read(key: string, entry: Entry): Promise<void> {
    const totals = await this.add([{ tenantId: entry.tenantId, day: entry.day, bytes: 0 }]);
    entry.total = totals.get(key) ?? 0;
  }

  async #writeRound(): Promise<void> {
    const today = utcDayOf(this.#now());
    const due = [...this.#entries.entries()].filter(([, e]) => !e.first && (e.pending > 0 || e.touched));
    for (const [key, entry] of this.#entries) if (entry.day !== today && entry.pending === 0 && !entry.first) this.#entries.delete(key);
    if (due.length === 0) return;
    // A round that fails is sent again whole with the next: an answer lost after MongoDB applied the adds
    // counts them twice, which errs towards refusing, never towards letting more through.
    const sent = due.map(([, entry]) => entry.pending);
    const totals = await this.add(due.map(([, entry], i) => ({ tenantId: entry.tenantId, day: entry.day, bytes: sent[i]! })));
    due.forEach(([key, entry], i) => {
      entry.pending -= sent[i]!;
      entry.total = totals.get(key) ?? entry.total;
      entry.touched = false;
    });
  }
}
