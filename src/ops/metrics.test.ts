import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { createMetrics, memoryLimitBytes, QUOTA_TENANT_LABELS, quotaRefusalCounter } from './metrics.js';
import { createWebhookTracker } from './webhook-tracker.js';

describe('bounded labels', () => {
  it('a quota refusal counter gives the first tenants a series each and the rest "other"', async () => {
    const metrics = createMetrics();
    const refused = quotaRefusalCounter(metrics);
    for (let i = 0; i <= QUOTA_TENANT_LABELS; i++) refused(`t${i}`, 'rate');
    refused('t0', 'rate');
    const values = (await metrics.quotaRefusals.get()).values;
    expect(values).toHaveLength(QUOTA_TENANT_LABELS + 1);
    expect(values.find((v) => v.labels.tenant === 't0')?.value).toBe(2);
    expect(values.find((v) => v.labels.tenant === 'other')?.value).toBe(1);
  });

  it("webhook endpoints are bounded apart from the quotas' tenants, and an attempt's delay is observed in seconds", async () => {
    const metrics = createMetrics();
    const refused = quotaRefusalCounter(metrics);
    for (let i = 0; i < QUOTA_TENANT_LABELS; i++) refused(`t${i}`, 'rate');
    const tracker = createWebhookTracker(metrics);
    tracker.attempt({ endpointId: 'endpoint-1', ok: true, delayMs: 1500 });
    tracker.attempt({ endpointId: 'endpoint-1', ok: false, delayMs: null });
    const attempts = (await metrics.webhookAttempts.get()).values;
    expect(attempts.map((v) => [v.labels.endpoint, v.labels.outcome, v.value])).toEqual([
      ['endpoint-1', 'delivered', 1],
      ['endpoint-1', 'failed', 1],
    ]);
    const delay = (await metrics.webhookDelay.get()).values.find((v) => v.metricName === 'prismo_webhook_delivery_delay_seconds_sum');
    expect(delay?.value).toBe(1.5);
  });
});

describe('the memory limit', () => {
  it('is scraped as the most this process may use: a container limit, never more than the machine holds', async () => {
    const metrics = createMetrics();
    const [sample] = (await metrics.registry.getSingleMetric('prismo_memory_limit_bytes')!.get()).values;
    expect(sample?.value).toBe(memoryLimitBytes());
    expect(memoryLimitBytes()).toBeGreaterThan(0);
    expect(memoryLimitBytes()).toBeLessThanOrEqual(totalmem());
    const constrained = process.constrainedMemory();
    if (constrained > 0 && constrained < totalmem()) expect(memoryLimitBytes()).toBe(constrained);
  });
});
