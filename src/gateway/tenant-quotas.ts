// Per-tenant quotas at the door: documents accepted per second (a token bucket, per gateway) and documents
// not yet processed; above either, 429 with Retry-After and a problem that says which (docs/api.md).
import { HttpProblem } from '../http/problem.js';

export type QuotaKind = 'rate' | 'waiting';

/** Resolves when the tenant may have these documents accepted; throws the 429 HttpProblem otherwise. */
export type Admit = (tenantId: string, documents: number) => Promise<void>;

export interface QuotaSettings {
  /** Documents a tenant may have accepted per second, sustained; a burst of one second's worth (or one batch). */
  docsPerSecond: number;
  /** Documents a tenant may have not yet processed (waiting, or dead awaiting an operator) before new ones are refused. */
  maxWaiting: number;
  /** The largest batch: the bucket holds at least that, so a full batch can always pass when the bucket is full. */
  batchMax: number;
}

export interface QuotaOptions {
  /** How many documents of this tenant wait now, counting at most `limit` (the count stops there). */
  countWaiting(tenantId: string, limit: number): Promise<number>;
  /** A refusal, for the metrics and the board. */
  onRefused?(tenantId: string, quota: QuotaKind): void;
  now?: () => number;
  /** How stale a tenant's waiting count may be; documents accepted since are added to it meanwhile. */
  countEveryMs?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

interface Waiting {
  count: number;
  at: number;
  /** Accepted here since the count was taken. */
  since: number;
  refreshing?: Promise<void>;
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

  constructor(
    private readonly settings: QuotaSettings,
    private readonly options: QuotaOptions,
  ) {
    this.#capacity = Math.max(settings.docsPerSecond, settings.batchMax);
    this.#now = options.now ?? Date.now;
    this.#countEveryMs = options.countEveryMs ?? 1_000;
  }

  /**
   * Admits `documents` of the tenant or throws a 429 HttpProblem naming the quota. The waiting count is
   * read from MongoDB at most once a second per tenant (the accept path's only extra query, and only for
   * tenants sending); the rate costs nothing but arithmetic.
   */
  async admit(tenantId: string, documents: number): Promise<void> {
    const waiting = await this.#waitingOf(tenantId);
    if (waiting.count + waiting.since + documents > this.settings.maxWaiting) {
      this.#refused(tenantId, 'waiting');
      throw new HttpProblem(
        429,
        'waiting-quota',
        `Tenant ${tenantId} has ${waiting.count + waiting.since} documents not yet processed; at most ${this.settings.maxWaiting} may wait (TENANT_MAX_UNPROCESSED). Retry once some are processed.`,
        { headers: { 'retry-after': '10' } },
      );
    }
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
  }

  /** The limits, and each tenant's refusals by this gateway since it started. */
  view(): { docsPerSecond: number; maxUnprocessed: number; refusals: Map<string, Record<QuotaKind, number>> } {
    return { docsPerSecond: this.settings.docsPerSecond, maxUnprocessed: this.settings.maxWaiting, refusals: this.#refusals };
  }

  #refused(tenantId: string, quota: QuotaKind): void {
    this.options.onRefused?.(tenantId, quota);
    const counts = this.#refusals.get(tenantId);
    if (counts) counts[quota]++;
    else if (this.#refusals.size < REFUSALS_KEPT) this.#refusals.set(tenantId, { rate: 0, waiting: 0, [quota]: 1 });
  }

  #refill(tenantId: string): Bucket {
    const now = this.#now();
    const bucket = this.#buckets.get(tenantId) ?? { tokens: this.#capacity, at: now };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.settings.docsPerSecond);
    bucket.at = now;
    this.#buckets.set(tenantId, bucket);
    return bucket;
  }

  /** The tenant's count, taken again (in the background) once it is older than countEveryMs; the first one awaited. */
  async #waitingOf(tenantId: string): Promise<Waiting> {
    let waiting = this.#waiting.get(tenantId);
    if (!waiting) {
      waiting = { count: await this.options.countWaiting(tenantId, this.settings.maxWaiting + 1), at: this.#now(), since: 0 };
      this.#waiting.set(tenantId, waiting);
      return waiting;
    }
    if (this.#now() - waiting.at >= this.#countEveryMs && !waiting.refreshing) {
      const entry = waiting;
      const startedAt = this.#now();
      const acceptedBefore = entry.since;
      entry.refreshing = this.options
        .countWaiting(tenantId, this.settings.maxWaiting + 1)
        .then((count) => {
          // What was accepted while counting may or may not be in the count: kept, to err on the safe side.
          Object.assign(entry, { count, at: startedAt, since: entry.since - acceptedBefore });
        })
        .catch(() => undefined)
        .finally(() => (entry.refreshing = undefined));
    }
    return waiting;
  }
}
