// Tenant quotas at the door, on real servers: over its rate, its cap of unprocessed documents or of their
// bytes, or its bytes of the day, a tenant gets 429 with Retry-After and a problem naming the quota; another
// tenant is unaffected; nothing accepted is lost; the refusals are counted per tenant in the metrics and on
// the board's overview.
import { calculateObjectSize } from 'bson';
import { describe, expect, it } from 'vitest';
import { parseCamt053 } from '../../src/domain/camt053-xml.js';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import { measureStatement } from '../../src/raw-store/measure-statement.js';
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
    const none = { rate: 0, waiting: 0, 'waiting-bytes': 0, 'daily-bytes': 0 };
    expect(board.tenants.find((t) => t.tenantId === 'tenant-b')?.refused ?? none).toEqual(none);
  });

  /** The tenant's i-th transaction with a note of `pad` characters: its payload weighs about that many bytes more. */
  const padded = (tenant: string, i: number, pad: number) => {
    const item = envelope(tenant, i);
    return { ...item, payload: { ...item.payload, note: 'x'.repeat(pad) } };
  };
  const problemOf = async (response: Response) => ({
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    ...((await response.json()) as { type: string; detail: string }),
  });

  it('over its cap of waiting bytes a tenant gets 429 waiting-bytes-quota; each stored document carries its payload bytes', async () => {
    // Ten documents of about 1 KiB wait; the cap is 12,000 bytes.
    const system = await sys.start(['gateway', 'ingest'], { TENANT_MAX_WAITING_BYTES: '12000' });
    const url = system.gatewayUrl!;
    const first = { items: Array.from({ length: 10 }, (_, i) => padded('tenant-a', i, 1_000)) };
    expect((await post(url, KEY_A, '/api/v1/transactions/batch', first)).status).toBe(207);
    const stored = await sys.mongo.raw.find({ tenantId: 'tenant-a' }).toArray();
    expect(stored.map((doc) => doc.bytes)).toEqual(stored.map((doc) => calculateObjectSize(doc.payload)));
    const waiting = stored.reduce((sum, doc) => sum + doc.bytes!, 0);
    expect(waiting).toBeGreaterThan(10_000);

    // Three more would pass the cap: refused whole, nothing stored; a single one too.
    const over = await post(url, KEY_A, '/api/v1/transactions/batch', { items: [10, 11, 12].map((i) => padded('tenant-a', i, 1_000)) });
    expect(over.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = await problemOf(over);
    expect(problem).toMatchObject({ status: 429, retryAfter: '10', type: '/problems/waiting-bytes-quota' });
    expect(problem.detail).toContain('TENANT_MAX_WAITING_BYTES');
    expect((await problemOf(await post(url, KEY_A, '/api/v1/transactions', padded('tenant-a', 13, 2_000)))).type).toBe(
      '/problems/waiting-bytes-quota',
    );
    expect(await sys.mongo.raw.countDocuments({ tenantId: 'tenant-a' })).toBe(10);
    // Another gateway knows nothing it accepted: it sums the stored documents' bytes, and refuses as well.
    const other = (await sys.start(['gateway', 'ingest'], { TENANT_MAX_WAITING_BYTES: '12000' })).gatewayUrl!;
    expect((await problemOf(await post(other, KEY_A, '/api/v1/transactions', padded('tenant-a', 13, 2_000)))).type).toBe(
      '/problems/waiting-bytes-quota',
    );
    // Small documents still fit; the other tenant has its own bytes.
    expect((await post(url, KEY_A, '/api/v1/transactions', envelope('tenant-a', 14))).status).toBe(202);
    expect((await post(url, KEY_B, '/api/v1/transactions/batch', first)).status).toBe(207);

    const metrics = await (await fetch(`${system.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/prismo_quota_refusals_total\{tenant="tenant-a",quota="waiting-bytes"\} 2/);
    expect(metrics).not.toMatch(/prismo_quota_refusals_total\{tenant="tenant-b"/);
  });

  it("over its bytes of the day a tenant gets 429 daily-bytes-quota until the UTC day ends, from every gateway; the other tenant's day is its own", async () => {
    const env = { TENANT_MAX_BYTES_PER_DAY: '20000' };
    const one = (await sys.start(['gateway', 'ingest'], env)).gatewayUrl!;
    const second = await sys.start(['gateway', 'ingest'], env);
    const two = second.gatewayUrl!;
    const sent = { items: Array.from({ length: 15 }, (_, i) => padded('tenant-a', i, 1_000)) };
    expect((await post(one, KEY_A, '/api/v1/transactions/batch', sent)).status).toBe(207);
    const charged = (await sys.mongo.raw.find({ tenantId: 'tenant-a' }).toArray()).reduce((sum, doc) => sum + doc.bytes!, 0);
    // The first gateway writes its count within a second, into one counter per tenant and day...
    const usage = sys.mongo.db.collection<{ tenantId: string; day: string; bytes: number }>('tenant_usage');
    const today = new Date().toISOString().slice(0, 10);
    await waitFor(
      'the day counted in MongoDB',
      async () => (await usage.findOne({ tenantId: 'tenant-a', day: today }))?.bytes === charged,
      {
        timeoutMs: 5_000,
      },
    );
    // ...which the second one reads: 15 KB accepted, 6 KB more would pass the day's 20 KB.
    const over = await post(two, KEY_A, '/api/v1/transactions/batch', {
      items: [20, 21, 22, 23, 24, 25].map((i) => padded('tenant-a', i, 1_000)),
    });
    const problem = await problemOf(over);
    expect(problem).toMatchObject({ status: 429, type: '/problems/daily-bytes-quota' });
    expect(problem.detail).toContain('TENANT_MAX_BYTES_PER_DAY');
    const untilMidnight = (Date.parse(`${today}T00:00:00Z`) + 86_400_000 - Date.now()) / 1000;
    expect(Math.abs(Number(problem.retryAfter) - untilMidnight)).toBeLessThan(5);
    // The first gateway refuses too, whatever it counted itself; the other tenant is admitted by both.
    expect((await problemOf(await post(one, KEY_A, '/api/v1/transactions', padded('tenant-a', 30, 6_000)))).type).toBe(
      '/problems/daily-bytes-quota',
    );
    expect((await post(two, KEY_B, '/api/v1/transactions/batch', sent)).status).toBe(207);
    expect(await sys.mongo.raw.countDocuments({ tenantId: 'tenant-a' })).toBe(15);
    expect(await (await fetch(`${second.opsUrl}/metrics`)).text()).toMatch(
      /prismo_quota_refusals_total\{tenant="tenant-a",quota="daily-bytes"\} 1/,
    );
  });

  it('a statement counts every byte it stores (its file in GridFS, its statements document), and one with no entries counts too', async () => {
    const empty = emptyStatement('EMPTY-1');
    const stores = await measureStatement('tenant-a', parseCamt053(empty), empty);
    // Its file is not all it stores: the GridFS chunk and files documents, and the statements document.
    expect(stores.file).toBeGreaterThan(Buffer.byteLength(empty));
    expect(stores.document).toBeGreaterThan(200);
    const perUpload = stores.file + stores.document + stores.entries;
    const system = await sys.start(['gateway', 'ingest'], { TENANT_MAX_BYTES_PER_DAY: String(Math.floor(perUpload * 1.5)) });
    const url = system.gatewayUrl!;
    const upload = (key: string, body: string) =>
      fetch(`${url}/api/v1/statements`, { method: 'POST', headers: { 'content-type': 'application/xml', 'x-api-key': key }, body });
    expect((await upload(KEY_A, empty)).status).toBe(202);
    // The second upload (of another statement) would pass the day's bytes: no entry, still refused.
    const again = await problemOf(await upload(KEY_A, emptyStatement('EMPTY-2')));
    expect(again).toMatchObject({ status: 429, type: '/problems/daily-bytes-quota' });
    expect(await sys.mongo.statements.countDocuments({ tenantId: 'tenant-a' })).toBe(1);
    expect((await upload(KEY_B, emptyStatement('EMPTY-2'))).status).toBe(202);
  });
});

/** A camt.053 file whose statement has no entry. */
const emptyStatement = (stmtId: string) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>${stmtId}</MsgId><CreDtTm>2026-11-28T18:00:00+01:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>${stmtId}</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Nm>Acme GmbH</Nm></Acct>
    </Stmt>
  </BkToCstmrStmt>
</Document>`;
