// The client's retry policy on its own: full-jitter backoff within its doubling ceiling, Retry-After read in
// both forms and capped, and a wait the caller's signal cuts short.
import { describe, expect, it } from 'vitest';
import { createClient, MAX_RETRIES } from './index.js';
import { backoffMs, DEFAULT_RETRY, retryAfterMs, sleep } from './retry.js';

describe('the client retry policy', () => {
  it('backs off with full jitter under a doubling ceiling, capped at maxDelayMs', () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffMs(policy, 0, undefined, () => 0)).toBe(0);
    expect(backoffMs(policy, 0, undefined, () => 0.999)).toBe(99);
    expect(backoffMs(policy, 2, undefined, () => 0.999)).toBe(399);
    expect(backoffMs(policy, 8, undefined, () => 0.999)).toBe(999);
  });

  it('honours Retry-After (seconds or an HTTP date) up to maxRetryAfterMs', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Mon, 07 Dec 2026 12:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(backoffMs(DEFAULT_RETRY, 0, 3000)).toBe(3000);
    expect(backoffMs(DEFAULT_RETRY, 0, 3_600_000)).toBe(DEFAULT_RETRY.maxRetryAfterMs);
  });

  it("ends a wait when the caller's signal aborts, and refuses an unbounded retry count", async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(() => createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', retries: MAX_RETRIES + 1 })).toThrow(RangeError);
  });
});
