import { describe, expect, it } from 'vitest';
import type { HttpProblem } from '../http/problem.js';
import { TenantQuotas } from './tenant-quotas.js';

describe('TenantQuotas', () => {
  const at = { now: 0 };
  const quotas = (waiting = 0) =>
    new TenantQuotas({ docsPerSecond: 100, maxWaiting: 1_000, batchMax: 50 }, { countWaiting: async () => waiting, now: () => at.now });
  const refusal = (promise: Promise<void>) =>
    promise.then(
      () => undefined,
      (error: HttpProblem) => ({ slug: error.slug, retryAfter: error.extra.headers?.['retry-after'] }),
    );

  it('a bucket of one second per tenant, refilled with time; the Retry-After is when it holds the request', async () => {
    at.now = 0;
    const q = quotas();
    await q.admit('a', 100);
    expect(await refusal(q.admit('a', 50))).toEqual({ slug: 'rate-quota', retryAfter: '1' });
    await q.admit('b', 100); // another tenant's own bucket
    at.now = 600;
    await q.admit('a', 50);
    expect(q.view().refusals.get('a')).toEqual({ rate: 1, waiting: 0 });
  });

  it('a request larger than the whole bucket passes once it is full, and empties it', async () => {
    at.now = 0;
    const q = quotas();
    await q.admit('a', 700);
    expect(await refusal(q.admit('a', 1))).toMatchObject({ slug: 'rate-quota' });
  });

  it('counts what it accepted on top of the last count of unprocessed documents', async () => {
    at.now = 0;
    const q = quotas(900);
    await q.admit('a', 80);
    expect(await refusal(q.admit('a', 30))).toEqual({ slug: 'waiting-quota', retryAfter: '10' });
  });
});
