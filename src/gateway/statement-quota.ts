// A statement upload stores more than its entries: its file (GridFS) and its statements document, kept for
// RETENTION_STATEMENTS_SECONDS after the entries are processed. This is the quota on those bytes while they
// are kept (TENANT_MAX_STORED_STATEMENT_BYTES), and the 413 for an upload no quota could ever admit; the
// per-day and waiting quotas (tenant-quotas.ts) are charged the same bytes through their Admit.
import { HttpProblem } from '../http/problem.js';
import type { StatementBytes } from '../raw-store/measure-statement.js';

export const STORED_STATEMENT_QUOTA = 'stored-statement-bytes';

export interface StatementQuotaSettings {
  /** Bytes of files and statements documents a tenant's uploads may hold while kept. */
  maxStoredStatementBytes: number;
  /** The per-day and waiting quotas' limits: an upload larger than either alone is a 413, not a 429. */
  maxBytesPerDay: number;
  maxWaitingBytes: number;
  /** RETENTION_STATEMENTS_SECONDS: 0, kept for ever (nothing frees room but an operator). */
  retentionSeconds: number;
}

/** The stored statements as MongoDB holds them (raw-store/stored-statement-bytes.ts). */
export interface StoredStatementsPort {
  storedBytes(tenantId: string): Promise<number>;
  /** When retention frees the first of the tenant's stored bytes; undefined when it stores none. */
  nextRelease(tenantId: string): Promise<Date | undefined>;
}

/** Without retention, when to ask again: an operator may have removed statements or raised the limit by then. */
const FOR_EVER_RETRY_SECONDS = 86_400;

/** What a statement stores while it is kept: its file and its statements document (its entries are raw documents). */
export const keptBytes = (bytes: StatementBytes) => bytes.file + bytes.document;

/** What the per-day and waiting quotas are charged for an upload: everything it stores. */
export const storedBytesOf = (bytes: StatementBytes) => bytes.file + bytes.document + bytes.entries;

export class StatementQuota {
  /** Bytes of uploads admitted here and still being stored: their statements document may not be in MongoDB's sum yet. */
  readonly #storing = new Map<string, number>();

  constructor(
    private readonly settings: StatementQuotaSettings,
    private readonly port: StoredStatementsPort,
    private readonly options: { onRefused?(tenantId: string, quota: typeof STORED_STATEMENT_QUOTA): void; now?: () => number } = {},
  ) {}

  /**
   * Refuses the upload (413 if it alone is over a limit, 429 if the tenant's stored statements with it would
   * be), or holds its bytes until the returned release is called (once it is stored, or failed): two uploads
   * at once on this gateway cannot both take the last room. Other gateways' uploads in flight are not seen.
   */
  async reserve(tenantId: string, bytes: StatementBytes): Promise<() => void> {
    this.#refuseAlone(bytes);
    const kept = keptBytes(bytes);
    const stored = await this.port.storedBytes(tenantId);
    // Read after the await: the check and the hold below run without a turn of the event loop between them.
    const storing = this.#storing.get(tenantId) ?? 0;
    if (stored + storing + kept > this.settings.maxStoredStatementBytes) throw await this.#refusal(tenantId, stored + storing, kept);
    this.#storing.set(tenantId, storing + kept);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#storing.get(tenantId) ?? kept) - kept;
      if (left > 0) this.#storing.set(tenantId, left);
      else this.#storing.delete(tenantId);
    };
  }

  /** 413: waiting would not help, whatever the tenant's usage. */
  #refuseAlone(bytes: StatementBytes): void {
    const { maxStoredStatementBytes, maxBytesPerDay, maxWaitingBytes } = this.settings;
    const all = storedBytesOf(bytes);
    const over: Array<[number, number, string, string]> = [
      [keptBytes(bytes), maxStoredStatementBytes, 'stored-statement-bytes-quota', 'its file and statements document, kept while retained'],
      [all, maxBytesPerDay, 'daily-bytes-quota', 'file, statements document and entries, per UTC day'],
      [all, maxWaitingBytes, 'waiting-bytes-quota', 'file, statements document and entries, while not yet processed'],
    ];
    for (const [size, max, slug, what] of over) {
      if (size <= max) continue;
      const setting =
        slug === 'daily-bytes-quota'
          ? 'TENANT_MAX_BYTES_PER_DAY'
          : slug === 'waiting-bytes-quota'
            ? 'TENANT_MAX_WAITING_BYTES'
            : 'TENANT_MAX_STORED_STATEMENT_BYTES';
      throw new HttpProblem(
        413,
        slug,
        `This statement upload alone stores ${size} bytes (${what}); a tenant may have at most ${max} (${setting}). Send its statements in smaller files.`,
      );
    }
  }

  async #refusal(tenantId: string, stored: number, kept: number): Promise<HttpProblem> {
    this.options.onRefused?.(tenantId, STORED_STATEMENT_QUOTA);
    const { maxStoredStatementBytes: max, retentionSeconds } = this.settings;
    const head = `Tenant ${tenantId} has ${stored} bytes in uploaded statements kept (files and statements documents); at most ${max} may be kept (TENANT_MAX_STORED_STATEMENT_BYTES) and this upload stores ${kept}.`;
    if (retentionSeconds === 0) {
      return new HttpProblem(
        429,
        'stored-statement-bytes-quota',
        `${head} Statements are kept for ever (RETENTION_STATEMENTS_SECONDS=0): room comes back only when an operator removes statements or raises the limit.`,
        { headers: { 'retry-after': String(FOR_EVER_RETRY_SECONDS) } },
      );
    }
    const at = await this.port.nextRelease(tenantId).catch(() => undefined);
    const now = (this.options.now ?? Date.now)();
    // The sweep and the TTL monitor run some time after the moment itself: at least a second, at most a day.
    const seconds = Math.min(FOR_EVER_RETRY_SECONDS, Math.max(1, Math.ceil(((at?.getTime() ?? now) - now) / 1000)));
    return new HttpProblem(
      429,
      'stored-statement-bytes-quota',
      `${head} Retention (RETENTION_STATEMENTS_SECONDS) frees the oldest in about ${seconds} s.`,
      { headers: { 'retry-after': String(seconds) } },
    );
  }
}
