// Per-tenant quotas at the door: documents accepted per second (a token bucket, per gateway), documents and
// bytes not yet processed, bytes accepted per UTC day; above any, 429 with Retry-After and a problem that
// says which (docs/api.md).
import { HttpProblem } from '../http/problem.js';
import { secondsToNextUtcDay } from './daily-bytes.js';

export const QUOTA_KINDS = ['rate', 'waiting', 'waiting-bytes', 'daily-bytes'] as const;
export type QuotaKind = (typeof QUOTA_KINDS)[number];

/**
 * Resolves when the tenant may have these documents, of these bytes, accepted; throws the 429 HttpProblem
 * otherwise. A document's bytes are its payload's as stored (BSON); a statement's, its file's as sent.
 */
export type Admit = (tenantId: string, documents: number, bytes: number) => Promise<void>;

export interface QuotaSettings {
  /** Documents a tenant may have accepted per second, sustained; a burst of one second's worth (or one batch). */
  docsPerSecond: number;
  /** Documents a tenant may have not yet processed (waiting, or dead awaiting an operator) before new ones are refused. */
  maxWaiting: number;
  /** The largest batch: the bucket holds at least that, so a full batch can always pass when the bucket is full. */
  batchMax: number;
  /** Bytes a tenant may have accepted per UTC day, every gateway's together. */
  maxBytesPerDay: number;
  /** Bytes a tenant's documents not yet processed may hold. */
  maxWaitingBytes: number;
}

/** Every gateway's count of a tenant's bytes today (daily-bytes.ts). */
export interface DailyBytesPort {
  today(tenantId: string): Promise<number>;
  charge(tenantId: string, bytes: number): void;
}

export interface QuotaOptions {
  /**
   * How many documents of this tenant wait now, counting at most `limit` (the count stops there), and with
   * `withBytes` their bytes; without it `bytes` is not read (the count can walk index keys alone).
   */
  countWaiting(tenantId: string, limit: number, withBytes: boolean): Promise<{ documents: number; bytes: number }>;
  dailyBytes: DailyBytesPort;
  /** A refusal, for the metrics and the board. */
  onRefused?(tenantId: string, quota: QuotaKind): void;
  now?: () => number;
  /** The freshest a tenant's waiting count is kept (near its cap); documents accepted since are added to it meanwhile. */
  countEveryMs?: number;
  /** The stalest it may grow, however far below the cap the tenant is. */
  countAtMostEveryMs?: number;
  /** The stalest the waiting bytes may grow, however far below the byte cap the tenant is (their sum reads every document). */
  sumBytesAtMostEveryMs?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

interface Waiting {
  count: number;
  at: number;
  /** How long the count took MongoDB to answer, ms. */
  tookMs: number;
  /** Documents accepted here since the count was taken. */
  since: number;
  /** The waiting bytes as last summed (not at every count: #bytesDueAfterMs), when, and how long that took. */
  bytes: number;
  bytesAt: number;
  bytesTookMs: number;
  /** Bytes accepted here since they were last summed. */
  sinceBytes: number;
  refreshing?: Promise<void>;
}

/** One count: the documents, with the bytes when they were summed. */
interface Count {
  count: number;
  bytes?: number;
  at: number;
  tookMs: number;
}

export type QuotaView = () => ReturnType<TenantQuotas['view']>;

/** Refusals per tenant since this gateway started, for the board; at most this many tenants are kept. */
const REFUSALS_KEPT = 1_000;

export class TenantQuotas {
  readonly #buckets = new Map<string, Bucket>();
  readonly #refusals = new Map<string, Record<QuotaKind, number>>();
  readonly #waiting = new Map<string, Waiting>();
  readonly #capacity: number;
  readonly #now: () => number;
  readonly #countEveryMs: number;
  readonly #countAtMostEveryMs: number;
  readonly #sumBytesAtMostEveryMs: number;

  constructor(
    private readonly settings: QuotaSettings,
    private readonly options: QuotaOptions,
  ) {
    this.#capacity = Math.max(settings.docsPerSecond, settings.batchMax);
    this.#now = options.now ?? Date.now;
    this.#countEveryMs = options.countEveryMs ?? 1_000;
    this.#countAtMostEveryMs = Math.max(this.#countEveryMs, options.countAtMostEveryMs ?? 10_000);
    this.#sumBytesAtMostEveryMs = Math.max(this.#countAtMostEveryMs, options.sumBytesAtMostEveryMs ?? 60_000);
  }

  /**
   * Admits `documents` of `bytes` or throws a 429 HttpProblem naming the quota. The waiting count is read
   * from MongoDB at most once a second per tenant, and less often the further below its caps the tenant is
   * (#countDueAfterMs; the accept path's only extra query, and only for tenants sending); the bytes of the day
   * are written and read back once a second for all tenants together (daily-bytes.ts); the rate costs nothing
   * but arithmetic.
   */
  async admit(tenantId: string, documents: number, bytes: number): Promise<void> {
    const [waiting, today] = await Promise.all([this.#waitingOf(tenantId), this.options.dailyBytes.today(tenantId)]);
    this.#checkWaiting(tenantId, waiting, documents, bytes);
    this.#checkDaily(tenantId, today, bytes);
    const bucket = this.#refill(tenantId);
    // A request larger than the whole bucket (a bank statement of many entries) passes once it is full.
    const charge = Math.min(documents, this.#capacity);
    if (bucket.tokens < charge) {
      this.#refused(tenantId, 'rate');
      const seconds = Math.max(1, Math.ceil((charge - bucket.tokens) / this.settings.docsPerSecond));
      throw new HttpProblem(
        429,
        'rate-quota',
        `Tenant ${tenantId} may have at most ${this.settings.docsPerSecond} documents accepted per second (TENANT_DOCS_PER_SECOND); this request carries ${documents}. Retry after ${seconds} s.`,
        { headers: { 'retry-after': String(seconds) } },
      );
    }
    bucket.tokens -= charge;
    waiting.since += documents;
    waiting.sinceBytes += bytes;
    this.options.dailyBytes.charge(tenantId, bytes);
  }

  /** The limits, and each tenant's refusals by this gateway since it started. */
  view(): {
    docsPerSecond: number;
    maxUnprocessed: number;
    maxWaitingBytes: number;
    maxBytesPerDay: number;
    refusals: Map<string, Record<QuotaKind, number>>;
  } {
    const { docsPerSecond, maxWaiting, maxWaitingBytes, maxBytesPerDay } = this.settings;
    return { docsPerSecond, maxUnprocessed: maxWaiting, maxWaitingBytes, maxBytesPerDay, refusals: this.#refusals };
  }

  #checkWaiting(tenantId: string, waiting: Waiting, documents: number, bytes: number): void {
    const { maxWaiting, maxWaitingBytes } = this.settings;
    if (waiting.count + waiting.since + documents > maxWaiting) {
      this.#refused(tenantId, 'waiting');
      throw new HttpProblem(
        429,
        'waiting-quota',
        `Tenant ${tenantId} has ${waiting.count + waiting.since} documents not yet processed; at most ${maxWaiting} may wait (TENANT_MAX_UNPROCESSED). Retry once some are processed.`,
        { headers: { 'retry-after': '10' } },
      );
    }
    const stored = waiting.bytes + waiting.sinceBytes;
    if (stored + bytes > maxWaitingBytes) {
      this.#refused(tenantId, 'waiting-bytes');
      throw new HttpProblem(
        429,
        'waiting-bytes-quota',
        `Tenant ${tenantId} has ${stored} bytes in documents not yet processed; at most ${maxWaitingBytes} may wait (TENANT_MAX_WAITING_BYTES) and this request carries ${bytes}. Retry once some are processed.`,
        { headers: { 'retry-after': '10' } },
      );
    }
  }

  #checkDaily(tenantId: string, today: number, bytes: number): void {
    const { maxBytesPerDay } = this.settings;
    if (today + bytes <= maxBytesPerDay) return;
    this.#refused(tenantId, 'daily-bytes');
    const seconds = secondsToNextUtcDay(this.#now());
    throw new HttpProblem(
      429,
      'daily-bytes-quota',
      `Tenant ${tenantId} has had ${today} bytes accepted today (UTC); at most ${maxBytesPerDay} per day (TENANT_MAX_BYTES_PER_DAY) and this request carries ${bytes}. Retry after the day ends, in ${seconds} s.`,
      { headers: { 'retry-after': String(seconds) } },
    );
  }

  #refused(tenantId: string, quota: QuotaKind): void {
    this.options.onRefused?.(tenantId, quota);
    const counts = this.#refusals.get(tenantId);
    if (counts) counts[quota]++;
    else if (this.#refusals.size < REFUSALS_KEPT)
      this.#refusals.set(tenantId, {
        ...(Object.fromEntries(QUOTA_KINDS.map((kind) => [kind, 0])) as Record<QuotaKind, number>),
        [quota]: 1,
      });
  }

  #refill(tenantId: string): Bucket {
    const now = this.#now();
    const bucket = this.#buckets.get(tenantId) ?? { tokens: this.#capacity, at: now };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.settings.docsPerSecond);
    bucket.at = now;
    this.#buckets.set(tenantId, bucket);
    return bucket;
  }

  /**
   * How old a tenant's count may grow before it is taken again. A count reads every waiting key up to the
   * cap, so its cost grows with the backlog (on the development MongoDB, 100,000 documents: 118 ms, median
   * of 5): taken every second, a tenant importing a large backlog would cost the database more the larger its
   * backlog grew, while far from its cap. Between counts this gateway adds what it accepts, so the count can
   * only err high (documents processed meanwhile) except for other gateways' acceptances: it is taken again
   * before the tenant, at its full rate, could have used half the room left under the cap (two gateways at
   * full rate stay under it), at least every countEveryMs, at most every countAtMostEveryMs, and never sooner
   * than ten times the last count's own duration (at most a tenth of the time spent counting).
   */
  #countDueAfterMs(waiting: Waiting): number {
    const room = Math.max(0, this.settings.maxWaiting - (waiting.count + waiting.since));
    return this.#dueAfterMs(room, waiting.tookMs, this.#countAtMostEveryMs);
  }

  /**
   * How old the waiting bytes may grow before the count sums them again. The sum reads each waiting document,
   * not keys alone (on the development MongoDB 1.5 times the key-only count: 470 against 310 ms of its CPU at
   * 300,000 documents, medians of 8; on mongod a fetch of every document), and the figure only matters near
   * the byte cap: summed before the tenant, at its full rate in documents of its average size so far, could
   * have used half the room left under the byte cap, by the same rules as the count but at most every
   * sumBytesAtMostEveryMs (60 s). Between sums this gateway adds the bytes it accepts, as for the count.
   */
  #bytesDueAfterMs(waiting: Waiting): number {
    const documents = waiting.count + waiting.since;
    const bytes = waiting.bytes + waiting.sinceBytes;
    // The room under the byte cap, in documents of the tenant's average size so far.
    const room = bytes > 0 ? (Math.max(0, this.settings.maxWaitingBytes - bytes) * documents) / bytes : Number.POSITIVE_INFINITY;
    return this.#dueAfterMs(room, waiting.bytesTookMs, this.#sumBytesAtMostEveryMs);
  }

  /** Half the time the tenant at its full rate takes to fill `room` documents, within the bounds above. */
  #dueAfterMs(room: number, tookMs: number, atMostEveryMs: number): number {
    const halfRoomMs = (room / this.settings.docsPerSecond) * 500;
    return Math.max(this.#countEveryMs, 10 * tookMs, Math.min(atMostEveryMs, halfRoomMs));
  }

  /** A count of the tenant's waiting documents (and their bytes, `withBytes`), with when it was started and how long it took. */
  async #count(tenantId: string, withBytes: boolean): Promise<Count> {
    const at = this.#now();
    const { documents, bytes } = await this.options.countWaiting(tenantId, this.settings.maxWaiting + 1, withBytes);
    return { count: documents, at, tookMs: this.#now() - at, ...(withBytes ? { bytes } : {}) };
  }

  /**
   * The tenant's count, taken again (in the background) once #countDueAfterMs has passed, with its bytes
   * summed once #bytesDueAfterMs has; the first one, bytes summed, awaited.
   */
  async #waitingOf(tenantId: string): Promise<Waiting> {
    let waiting = this.#waiting.get(tenantId);
    if (!waiting) {
      const { count, at, tookMs, bytes = 0 } = await this.#count(tenantId, true);
      waiting = { count, at, tookMs, since: 0, bytes, bytesAt: at, bytesTookMs: tookMs, sinceBytes: 0 };
      this.#waiting.set(tenantId, waiting);
      return waiting;
    }
    const now = this.#now();
    const withBytes = now - waiting.bytesAt >= this.#bytesDueAfterMs(waiting);
    if ((withBytes || now - waiting.at >= this.#countDueAfterMs(waiting)) && !waiting.refreshing) {
      const entry = waiting;
      const [acceptedBefore, bytesBefore] = [entry.since, entry.sinceBytes];
      entry.refreshing = this.#count(tenantId, withBytes)
        .then(({ count, at, tookMs, bytes }) => {
          // What was accepted while counting may or may not be in the count: kept, to err on the safe side.
          Object.assign(entry, { count, at, tookMs, since: entry.since - acceptedBefore });
          if (bytes !== undefined)
            Object.assign(entry, { bytes, bytesAt: at, bytesTookMs: tookMs, sinceBytes: entry.sinceBytes - bytesBefore });
        })
        .catch(() => undefined)
        .finally(() => (entry.refreshing = undefined));
    }
    return waiting;
  }
}
