import { describe, expect, it } from 'vitest';
import type { HttpProblem } from '../http/problem.js';
import { StatementQuota, type StatementQuotaSettings } from './statement-quota.js';

const SETTINGS: StatementQuotaSettings = {
  maxStoredStatementBytes: 10_000,
  maxBytesPerDay: 1e12,
  maxWaitingBytes: 1e12,
  retentionSeconds: 3_600,
};
/** An upload keeping `kept` bytes (file and statements document) and `entries` bytes more in its entries. */
const upload = (kept: number, entries = 0) => ({ file: kept - 100, document: 100, entries });

describe('StatementQuota', () => {
  const at = { now: 1_000_000 };
  /** Stored bytes per tenant as MongoDB would sum them, and the oldest release. */
  const quota = (stored: Record<string, number> = {}, settings = SETTINGS, release?: Date) => {
    const refused: string[] = [];
    const q = new StatementQuota(
      settings,
      { storedBytes: async (tenantId) => stored[tenantId] ?? 0, nextRelease: async () => release },
      { onRefused: (tenantId) => refused.push(tenantId), now: () => at.now },
    );
    return { q, refused };
  };
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: HttpProblem) => ({ status: error.status, slug: error.slug, retryAfter: error.extra.headers?.['retry-after'] }),
    );

  it("refuses what would pass the tenant's stored bytes, with a Retry-After until retention frees the oldest; not another tenant", async () => {
    const { q, refused } = quota({ a: 9_000 }, SETTINGS, new Date(at.now + 42_500));
    await q.reserve('a', upload(1_000));
    expect(await refusal(q.reserve('a', upload(1)))).toEqual({ status: 429, slug: 'stored-statement-bytes-quota', retryAfter: '43' });
    await q.reserve('b', upload(10_000));
    expect(refused).toEqual(['a']);
  });

  it('holds what it admitted until released: two uploads at once cannot both take the last room', async () => {
    const { q } = quota({ a: 5_000 });
    const [first, second] = await Promise.allSettled([q.reserve('a', upload(4_000)), q.reserve('a', upload(4_000))]);
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('rejected');
    // Stored now (MongoDB's sum has it); released here, once, however often it is called.
    const release = (first as PromiseFulfilledResult<() => void>).value;
    release();
    release();
    await q.reserve('a', upload(5_000));
  });

  it('an upload over a quota by itself is 413 naming it: the stored bytes (file and document), the day and the waiting bytes (everything)', async () => {
    const { q, refused } = quota({}, { ...SETTINGS, maxBytesPerDay: 20_000, maxWaitingBytes: 30_000 });
    expect(await refusal(q.reserve('a', upload(10_001)))).toMatchObject({ status: 413, slug: 'stored-statement-bytes-quota' });
    expect(await refusal(q.reserve('a', upload(5_000, 15_001)))).toMatchObject({ status: 413, slug: 'daily-bytes-quota' });
    const { q: q2 } = quota({}, { ...SETTINGS, maxBytesPerDay: 1e12, maxWaitingBytes: 8_000 });
    expect(await refusal(q2.reserve('a', upload(5_000, 3_001)))).toMatchObject({ status: 413, slug: 'waiting-bytes-quota' });
    // Not a refusal of the tenant's usage: nothing counted for the board.
    expect(refused).toEqual([]);
  });

  it('statements kept for ever: 429 saying so, with a day as Retry-After', async () => {
    const { q } = quota({ a: 10_000 }, { ...SETTINGS, retentionSeconds: 0 });
    expect(await refusal(q.reserve('a', upload(1)))).toEqual({ status: 429, slug: 'stored-statement-bytes-quota', retryAfter: '86400' });
  });
});
