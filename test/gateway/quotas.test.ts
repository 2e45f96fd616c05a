// Tenant quotas at the door, on real servers: over its rate or its cap of unprocessed documents a tenant gets
// 429 with Retry-After and a problem naming the quota; another tenant is unaffected; nothing accepted is lost;
// the refusals are counted per tenant in the metrics and on the board's overview.
import { describe, expect, it } from 'vitest';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import { mongoUri, waitFor } from '../support/databases.js';
import { useSystem } from '../support/system.js';
import { postAs, tenantEnvelope } from '../support/tenants.js';

const KEY_A = 'quota-a-key-0123456789abcdef';
const KEY_B = 'quota-b-key-0123456789abcdef';

describe.skipIf(!mongoUri)('tenant quotas', () => {
  const sys = useSystem({ API_KEYS: `tenant-a:${KEY_A},tenant-b:${KEY_B}`, RATE_LIMIT_PER_MINUTE: '1000000', BATCH_INGEST_MAX: '100' });

  const post = postAs;
  const envelope = tenantEnvelope;
  const batch = (tenant: string, from: number, count: number) => ({
    items: Array.from({ length: count }, (_, i) => envelope(tenant, from + i)),
  });

  it('over its rate a tenant gets 429 rate-quota with Retry-After; the other tenant is unaffected; what was accepted is all stored', async () => {
    // 100 documents a second, a burst of one batch (100): the second batch at once is over.
    const system = await sys.start(['gateway', 'ingest'], { TENANT_DOCS_PER_SECOND: '100' });
    const url = system.gatewayUrl!;
    expect((await post(url, KEY_A, '/api/v1/transactions/batch', batch('tenant-a', 0, 100))).status).toBe(207);
    const over = await post(url, KEY_A, '/api/v1/transactions/batch', batch('tenant-a', 100, 100));
    expect(over.status).toBe(429);
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const problem = (await over.json()) as { type: string; detail: string };
    expect(problem.type).toBe('/problems/rate-quota');
    expect(problem.detail).toContain('TENANT_DOCS_PER_SECOND');

    // Tenant B has its own bucket.
    expect((await post(url, KEY_B, '/api/v1/transactions/batch', batch('tenant-b', 0, 100))).status).toBe(207);
    // After Retry-After, A is admitted again.
    await waitFor(
      'A admitted again',
      async () => (await post(url, KEY_A, '/api/v1/transactions', envelope('tenant-a', 600))).status === 202,
      {
        timeoutMs: 5_000,
        intervalMs: 250,
      },
    );
    expect(await sys.mongo.raw.countDocuments({ tenantId: 'tenant-a' })).toBe(101);
    expect(await sys.mongo.raw.countDocuments({ tenantId: 'tenant-b' })).toBe(100);

    const metrics = await (await fetch(`${system.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/prismo_quota_refusals_total\{tenant="tenant-a",quota="rate"\} [1-9]/);
    expect(metrics).not.toMatch(/prismo_quota_refusals_total\{tenant="tenant-b"/);
  });

  it('over its cap of unprocessed documents a tenant gets 429 waiting-quota until the backlog shrinks; the board shows it', async () => {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    const operator = (await createApiKey(accept, 'prismo-ops', ['operator'])).key;
    const system = await sys.start(['gateway', 'ingest'], { TENANT_MAX_UNPROCESSED: '150' });
    const url = system.gatewayUrl!;
    expect((await post(url, KEY_A, '/api/v1/transactions/batch', batch('tenant-a', 0, 100))).status).toBe(207);
    const over = await post(url, KEY_A, '/api/v1/transactions/batch', batch('tenant-a', 100, 100));
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('10');
    expect(((await over.json()) as { type: string }).type).toBe('/problems/waiting-quota');
    expect((await post(url, KEY_B, '/api/v1/transactions/batch', batch('tenant-b', 0, 100))).status).toBe(207);

    // A processor works the backlog off; the count is taken again within a second and A is admitted.
    await sys.start(['processor'], { WORKER_ID: 'quota', POLL_INTERVAL_MS: '200' });
    await waitFor(
      'A admitted again',
      async () => (await post(url, KEY_A, '/api/v1/transactions/batch', batch('tenant-a', 100, 100))).status === 207,
      {
        timeoutMs: 30_000,
        intervalMs: 500,
      },
    );
    const board = (await (await fetch(`${url}/api/v1/admin/board/overview`, { headers: { 'x-api-key': operator } })).json()) as {
      tenants: Array<{ tenantId: string; refused: { rate: number; waiting: number } }>;
      quotas: { maxUnprocessed: number };
    };
    expect(board.quotas.maxUnprocessed).toBe(150);
    expect(board.tenants.find((t) => t.tenantId === 'tenant-a')!.refused.waiting).toBeGreaterThanOrEqual(1);
    expect(board.tenants.find((t) => t.tenantId === 'tenant-b')?.refused ?? { rate: 0, waiting: 0 }).toEqual({ rate: 0, waiting: 0 });
  });
});
