// When a failed attempt may be sent again, and after how long: only answers that mean "not done, try later"
// (429, 503) and lost connections, with exponential backoff and full jitter, Retry-After honoured up to a cap.

export interface RetryPolicy {
  /** Attempts after the first (default 3). */
  retries: number;
  /** The first backoff's ceiling; each retry doubles it (default 250 ms). */
  baseDelayMs: number;
  /** No backoff is longer than this (default 10 s). */
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to it (default 30 s). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 10_000, maxRetryAfterMs: 30_000 };

/** The statuses that say the request was not carried out and may succeed later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Retry-After as milliseconds (delta-seconds or an HTTP date), undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before retry number `attempt` (0-based): Retry-After if the API gave one, else full jitter. */
export function backoffMs(policy: RetryPolicy, attempt: number, retryAfter?: number, random = Math.random): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxRetryAfterMs);
  return Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
