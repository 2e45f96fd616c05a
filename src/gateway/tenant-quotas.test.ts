import { describe, expect, it } from 'vitest';
import type { HttpProblem } from '../http/problem.js';
import { type DailyBytesPort, TenantQuotas } from './tenant-quotas.js';

/** Bytes per tenant, as one gateway alone would count them. */
const dailyBytes = (): DailyBytesPort => {
  const totals = new Map<string, number>();
  return {
    today: async (tenantId) => totals.get(tenantId) ?? 0,
    charge: (tenantId, bytes) => totals.set(tenantId, (totals.get(tenantId) ?? 0) + bytes),
  };
};
const BYTE_LIMITS = { maxBytesPerDay: 1e12, maxWaitingBytes: 1e12 };

describe('TenantQuotas', () => {
  const at = { now: 0 };
  const quotas = (waiting = 0, bytes = { ...BYTE_LIMITS, waiting: 0 }) =>
    new TenantQuotas(
      { docsPerSecond: 100, maxWaiting: 1_000, batchMax: 50, ...bytes },
      { countWaiting: async () => ({ documents: waiting, bytes: bytes.waiting }), dailyBytes: dailyBytes(), now: () => at.now },
    );
  const refusal = (promise: Promise<void>) =>
    promise.then(
      () => undefined,
      (error: HttpProblem) => ({ slug: error.slug, retryAfter: error.extra.headers?.['retry-after'] }),
    );

  it('a bucket of one second per tenant, refilled with time; the Retry-After is when it holds the request', async () => {
    at.now = 0;
    const q = quotas();
    await q.admit('a', 100, 100);
    expect(await refusal(q.admit('a', 50, 100))).toEqual({ slug: 'rate-quota', retryAfter: '1' });
    await q.admit('b', 100, 100); // another tenant's own bucket
    at.now = 600;
    await q.admit('a', 50, 100);
    expect(q.view().refusals.get('a')).toEqual({ rate: 1, waiting: 0, 'waiting-bytes': 0, 'daily-bytes': 0 });
  });

  it('a request larger than the whole bucket passes once it is full, and empties it', async () => {
    at.now = 0;
    const q = quotas();
    await q.admit('a', 700, 100);
    expect(await refusal(q.admit('a', 1, 100))).toMatchObject({ slug: 'rate-quota' });
  });

  it('counts what it accepted on top of the last count of unprocessed documents', async () => {
    at.now = 0;
    const q = quotas(900);
    await q.admit('a', 80, 100);
    expect(await refusal(q.admit('a', 30, 100))).toEqual({ slug: 'waiting-quota', retryAfter: '10' });
  });

  it('counts the bytes accepted since the last count on top of its waiting bytes', async () => {
    at.now = 0;
    const q = quotas(0, { ...BYTE_LIMITS, maxWaitingBytes: 10_000, waiting: 9_000 });
    await q.admit('a', 1, 600);
    expect(await refusal(q.admit('a', 1, 600))).toEqual({ slug: 'waiting-bytes-quota', retryAfter: '10' });
    await q.admit('b', 1, 600); // another tenant's own count (the same figure here, from the fake)
    expect(q.view().refusals.get('a')).toMatchObject({ 'waiting-bytes': 1 });
  });

  it('refuses bytes over the day until the next UTC day, whose start says the Retry-After', async () => {
    at.now = Date.parse('2026-12-07T23:59:00.500Z');
    const q = quotas(0, { ...BYTE_LIMITS, maxBytesPerDay: 1_000, waiting: 0 });
    await q.admit('a', 1, 1_000);
    expect(await refusal(q.admit('a', 1, 1))).toEqual({ slug: 'daily-bytes-quota', retryAfter: '60' });
    await q.admit('b', 1, 1_000);
  });

  describe('how often the unprocessed count is taken again', () => {
    /** A quota whose counts are recorded (at the clock's time) and take `tookMs` of it. */
    const counted = (settings: { docsPerSecond: number; maxWaiting: number }, waiting: number, tookMs = 0) => {
      const counts: number[] = [];
      const q = new TenantQuotas(
        { ...settings, ...BYTE_LIMITS, batchMax: 1 },
        {
          countWaiting: async () => {
            counts.push(at.now);
            at.now += tookMs;
            return { documents: waiting, bytes: 0 };
          },
          dailyBytes: dailyBytes(),
          now: () => at.now,
        },
      );
      /** Admits one document at `ms`, then lets a background count finish. */
      const admitAt = async (ms: number) => {
        at.now = ms;
        await q.admit('a', 1, 100);
        await new Promise((resolve) => setImmediate(resolve));
      };
      return { counts, admitAt };
    };

    it('near the cap every second', async () => {
      // 100 documents of room at 100/s: the tenant could fill it in a second.
      const { counts, admitAt } = counted({ docsPerSecond: 100, maxWaiting: 1_000 }, 900);
      for (const ms of [0, 500, 1_000, 1_500, 2_000]) await admitAt(ms);
      expect(counts).toEqual([0, 1_000, 2_000]);
    });

    it('far below it when half the room could be used at the full rate, at most every 10 s', async () => {
      // 10,000 documents of room at 1,000/s: half of it takes 5 s.
      const near = counted({ docsPerSecond: 1_000, maxWaiting: 20_000 }, 10_000);
      for (let ms = 0; ms <= 12_000; ms += 1_000) await near.admitAt(ms);
      expect(near.counts).toEqual([0, 5_000, 10_000]);
      // 1,900,000 of room at 50,000/s: 19 s, so the 10 s bound.
      const far = counted({ docsPerSecond: 50_000, maxWaiting: 2_000_000 }, 100_000);
      for (let ms = 0; ms <= 21_000; ms += 1_000) await far.admitAt(ms);
      expect(far.counts).toEqual([0, 10_000, 20_000]);
    });

    /** A quota whose counts record (time, whether bytes were summed); `bytes` waiting at each count. */
    const summed = (maxWaitingBytes: number, bytes: number) => {
      const counts: Array<[number, boolean]> = [];
      const q = new TenantQuotas(
        { docsPerSecond: 1_000, maxWaiting: 2_000_000, batchMax: 1, maxBytesPerDay: 1e12, maxWaitingBytes },
        {
          countWaiting: async (_tenantId, _limit, withBytes) => {
            counts.push([at.now, withBytes]);
            return { documents: 100_000, bytes: withBytes ? bytes : 0 };
          },
          dailyBytes: dailyBytes(),
          now: () => at.now,
        },
      );
      return { counts, q };
    };

    it('the waiting bytes are summed far below the byte cap at most every 60 s, the counts between key-only', async () => {
      // 100,000 documents of 100 bytes, cap 1e12: room for billions of such documents.
      const { counts, q } = summed(1e12, 10_000_000);
      for (let ms = 0; ms <= 61_000; ms += 1_000) {
        at.now = ms;
        await q.admit('a', 1, 100);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(counts.filter(([, withBytes]) => withBytes).map(([ms]) => ms)).toEqual([0, 60_000]);
      expect(counts.filter(([, withBytes]) => !withBytes).map(([ms]) => ms)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000]);
    });

    it('near the byte cap the bytes are summed with every count, and what was accepted since the last sum still counts', async () => {
      // 100,000 documents of 100 bytes and 2,000,000 bytes of room: 20,000 documents, 10 s at the full rate, so 10 s
      // (the count's own bound) and every second once half of that room is gone.
      const { counts, q } = summed(12_000_000, 10_000_000);
      at.now = 0;
      await q.admit('a', 1, 100);
      at.now = 10_000;
      await q.admit('a', 1, 1_000_000); // starts a count, bytes summed (still 10,000,000 in this fake)
      await new Promise((resolve) => setImmediate(resolve));
      expect(counts).toEqual([
        [0, true],
        [10_000, true],
      ]);
      // 10,000,000 summed + 1,000,000 accepted since the sum began: 1,000,001 more is over the cap.
      expect(await refusal(q.admit('a', 1, 1_000_001))).toEqual({ slug: 'waiting-bytes-quota', retryAfter: '10' });
    });

    it('never sooner than ten times the last count took', async () => {
      // At the cap, but each count takes 300 ms: every 3 s (from when the count started).
      const { counts, admitAt } = counted({ docsPerSecond: 100, maxWaiting: 1_000 }, 1_000, 300);
      for (let ms = 0; ms <= 7_000; ms += 1_000) await admitAt(ms).catch(() => undefined);
      expect(counts).toEqual([0, 3_000, 6_000]);
    });
  });
});
