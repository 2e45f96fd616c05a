// @prismo/client against the real system (gateway, ingestion, processor, deliverer on the suite's MongoDB and
// PostgreSQL): every method, retries through a proxy that loses answers (stored once), pagination across
// pages without gaps or repeats, a statement upload, and the errors as PrismoError.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Envelope, type PrismoClient, PrismoError } from '../../clients/typescript/src/index.js';
import { generatedTypes, TYPES_FILE } from '../../scripts/generate-client-types.js';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import { mongoUri, waitFor } from '../support/databases.js';
import { startHttpFaultProxy } from '../support/http-fault-proxy.js';
import { useSystem } from '../support/system.js';
import { startReceiver } from '../support/webhook-receiver.js';

const ISO_SAMPLE = fileURLToPath(
  new URL('../../src/mapping/transform/vendor/camt053/iso20022-business-sample.camt.053.001.04.xml', import.meta.url),
);

/** Quick backoff: the retries are what is tested, not the waits. */
const FAST = { baseDelayMs: 5, maxDelayMs: 20 };

const envelope = (account: string, i: number, externalId?: string): Envelope => ({
  source: 'generic',
  ...(externalId ? { externalId } : {}),
  payload: { account, amountMinor: 100 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' },
});

describe.skipIf(!mongoUri)('@prismo/client', () => {
  const sys = useSystem({ POLL_INTERVAL_MS: '100', BATCH_MAX_WAIT_MS: '20', API_KEY_CACHE_MS: '0' }, { resetAfterEach: false });
  let gateway: string;
  let apiKey: string;
  let client: PrismoClient;

  const processed = (id: string) =>
    waitFor(`transaction ${id} processed`, async () => (await client.transactions.get(id)).status === 'processed');
  const storedWith = (account: string) =>
    sys.pg.db.one(
      'SELECT count(*)::int AS n FROM transactions t JOIN accounts a ON a.id = t.account_id WHERE a.external_ref = $1',
      [account],
      (r: { n: number }) => r.n,
    );

  beforeAll(async () => {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    apiKey = (await createApiKey(accept, 'acme', ['transactions:write', 'transactions:read', 'admin'])).key;
    gateway = (await sys.start(['gateway', 'ingest', 'processor', 'deliverer'])).gatewayUrl!;
    client = createClient({ baseUrl: gateway, apiKey, retry: FAST });
  });

  it("the client's committed types are what the running gateway's /openapi.json generates", async () => {
    const served = (await (await fetch(`${gateway}/openapi.json`)).json()) as Record<string, unknown>;
    expect((await generatedTypes(served)) === (await readFile(TYPES_FILE, 'utf8'))).toBe(true);
  });

  it('transactions: create, get, createMany (207 per item), and list across pages without gaps or repeats', async () => {
    const accepted = await client.transactions.create(envelope('list-acc', 0, 'list-0'));
    expect(accepted.status).toBe('pending');
    expect(accepted.duplicate).toBeUndefined();
    const batch = await client.transactions.createMany([
      envelope('list-acc', 1, 'list-1'),
      { payload: { account: 'list-acc' } } as never,
      envelope('list-acc', 2, 'list-2'),
      envelope('list-acc', 3, 'list-3'),
      envelope('list-acc', 4, 'list-4'),
    ]);
    expect(batch).toMatchObject({ accepted: 4, rejected: 1 });
    const refused = batch.results[1]!;
    expect(refused.status).toBe(400);
    expect('problem' in refused && refused.problem.errors?.map((e) => e.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^items\.1\./)]),
    );
    const ids = [accepted.id, ...batch.results.flatMap((r) => ('id' in r ? [r.id] : []))];
    for (const id of ids) await processed(id);
    const one = await client.transactions.get(accepted.id);
    expect(one.transaction).toMatchObject({ externalId: 'list-0', account: 'list-acc', amount: { minor: '100', currency: 'EUR' } });

    const paged = [];
    for await (const row of client.transactions.list({ account: 'list-acc' }, { pageSize: 2 })) paged.push(row.id);
    const whole = [];
    for await (const row of client.transactions.list({ account: 'list-acc', limit: 100 })) whole.push(row.id);
    expect(paged).toHaveLength(5);
    expect(new Set(paged).size).toBe(5);
    expect(paged).toEqual(whole);
    expect(new Set(paged)).toEqual(new Set(ids));
  });

  it('a transaction sent through a proxy that drops the first two answers after forwarding is stored exactly once', async () => {
    const proxy = await startHttpFaultProxy(gateway);
    sys.defer(() => proxy.close());
    proxy.plan(['drop-after-forward', 'drop-after-forward']);
    const through = createClient({ baseUrl: proxy.url, apiKey, retry: FAST });
    // No externalId: only the Idempotency-Key can tell the three attempts are one transaction.
    const accepted = await through.transactions.create(envelope('retry-acc', 7));
    await processed(accepted.id);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments({ 'payload.account': 'retry-acc' })).toBe(1);
    expect(await storedWith('retry-acc')).toBe(1);
    expect(proxy.seen).toHaveLength(3);
    const keys = new Set(proxy.seen.map((s) => s.idempotencyKey));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    // Each attempt is logged under its own request id.
    expect(new Set(proxy.seen.map((s) => s.requestId)).size).toBe(3);

    // The same drops without a key on a write that takes none (PATCH): one attempt, the error surfaces.
    proxy.plan(['drop-after-forward']);
    const before = proxy.seen.length;
    await expect(through.webhookEndpoints.update('we_000000000000000000000000', { enabled: true })).rejects.toThrow();
    expect(proxy.seen.length - before).toBe(1);
  });

  it('retries are bounded, honour Retry-After on 429/503, and end as a PrismoError with the problem', async () => {
    const proxy = await startHttpFaultProxy(gateway);
    sys.defer(() => proxy.close());
    const limited = createClient({ baseUrl: proxy.url, apiKey, retries: 2, retry: FAST });
    const problem = { type: '/problems/rate-limited', title: 'Too Many Requests', status: 429, detail: 'slow down' };
    proxy.plan([{ status: 429, headers: { 'retry-after': '1' }, body: problem }, 'pass']);
    const started = performance.now();
    const row = await limited.transactions.get('0'.repeat(24)).catch((error: unknown) => error);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(row).toBeInstanceOf(PrismoError);
    expect(row).toMatchObject({ status: 404 });
    expect(proxy.seen).toHaveLength(2);

    const unavailable = { type: '/problems/unavailable', title: 'Service Unavailable', status: 503, detail: 'later', requestId: 'req-9' };
    proxy.plan(Array(5).fill({ status: 503, body: unavailable }));
    const error = (await limited.transactions.get('0'.repeat(24)).catch((e: unknown) => e)) as PrismoError;
    expect(proxy.seen).toHaveLength(5);
    expect(error).toMatchObject({ status: 503, type: '/problems/unavailable', detail: 'later', requestId: 'req-9' });
  });

  it('PrismoError carries the problem of a 400 and a 404, and the request id the attempt was logged under', async () => {
    const bad = (await client.transactions
      .create({ payload: { account: 'x' }, unknown: 1 } as never)
      .catch((e: unknown) => e)) as PrismoError;
    expect(bad).toBeInstanceOf(PrismoError);
    expect(bad).toMatchObject({ status: 400, type: '/problems/validation-error', title: 'Bad Request' });
    expect(bad.detail).not.toBe('');
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors.every((e) => e.path && e.message)).toBe(true);
    expect(bad.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const missing = (await client.transactions.get('0'.repeat(24)).catch((e: unknown) => e)) as PrismoError;
    expect(missing).toMatchObject({
      status: 404,
      type: '/problems/not-found',
      title: 'Not Found',
      detail: `No transaction ${'0'.repeat(24)}.`,
    });
    expect(missing.errors).toEqual([]);
  });

  it('the caller cancels a call with its AbortSignal; an attempt over timeoutMs is abandoned', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the caller'));
    await expect(client.transactions.get('0'.repeat(24), { signal: controller.signal })).rejects.toThrow('cancelled by the caller');
    const once = createClient({ baseUrl: gateway, apiKey, retries: 0 });
    await expect(once.transactions.list({}, { timeoutMs: 1 }).next()).rejects.toThrow(/timeout|abort/i);
  });

  it('statements: the ISO camt.053 sample uploaded from a path gives its 3 rows; the same file as a stream is a duplicate', async () => {
    const accepted = await client.statements.upload({ path: ISO_SAMPLE });
    expect(accepted.status).toBe('pending');
    const statement = await waitFor('statement processed', async () => {
      const s = await client.statements.get(accepted.id);
      return s.status === 'processed' && s.entries.every((e) => e.transaction) ? s : undefined;
    });
    expect(statement.entries).toHaveLength(3);
    expect(statement.statements.reduce((n, s) => n + s.entries, 0)).toBe(3);
    const page = await client.statements.get(accepted.id, { limit: 1, startingAfter: 0 });
    expect(page.entries.map((e) => e.index)).toEqual([1]);
    const entries = [];
    for await (const entry of client.statements.entries(accepted.id, { pageSize: 1 })) entries.push(entry.index);
    expect(entries).toEqual([0, 1, 2]);

    const bytes = await readFile(ISO_SAMPLE);
    const again = await client.statements.upload(new Blob([bytes]).stream());
    expect(again).toMatchObject({ id: accepted.id, duplicate: true });
    expect(await client.statements.upload(bytes.toString('utf8'))).toMatchObject({ id: accepted.id, duplicate: true });
  });

  it('events: list across pages without gaps or repeats, follow resumes after the last event', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await client.transactions.create(envelope('events-acc', i))).id);
    for (const id of ids) await processed(id);
    const all = [];
    for await (const event of client.events.list({ types: ['transaction.processed'] }, { pageSize: 100 })) all.push(event.id);
    const paged = [];
    for await (const event of client.events.list({ types: ['transaction.processed'] }, { pageSize: 2 })) paged.push(event.id);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(paged).toEqual(all);
    expect(new Set(paged).size).toBe(paged.length);

    // Follow from the start until every listed event is seen, then resume after the last one for the next.
    const controller = new AbortController();
    const followed = [];
    for await (const event of client.events.follow({
      types: ['transaction.processed'],
      pageSize: 3,
      signal: controller.signal,
      pollIntervalMs: 100,
    })) {
      followed.push(event.id);
      if (followed.length === all.length) controller.abort();
    }
    expect(followed).toEqual(all);
    const next = await client.transactions.create(envelope('events-acc', 99));
    const resumed = new AbortController();
    const later = [];
    for await (const event of client.events.follow({
      types: ['transaction.processed'],
      startingAfter: followed.at(-1),
      signal: resumed.signal,
      pollIntervalMs: 100,
    })) {
      later.push(event);
      resumed.abort();
    }
    expect(later.map((e) => e.documentId)).toEqual([next.id]);
  });

  it('webhookEndpoints: create, list, get, update, rotateSecret, deliveries, resend, delete', async () => {
    const receiver = await startReceiver();
    sys.defer(() => receiver.close());
    const created = await client.webhookEndpoints.create({ url: receiver.url, events: ['transaction.processed'] });
    expect(created.secret).toMatch(/^whsec_/);
    expect((await client.webhookEndpoints.list()).map((e) => e.id)).toContain(created.id);
    expect(await client.webhookEndpoints.get(created.id)).toMatchObject({ id: created.id, url: receiver.url });
    const updated = await client.webhookEndpoints.update(created.id, { events: ['transaction.processed', 'transaction.dead'] });
    expect(updated.events).toEqual(['transaction.processed', 'transaction.dead']);
    const rotated = await client.webhookEndpoints.rotateSecret(created.id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);

    const sent = await client.transactions.create(envelope('hook-acc', 1));
    const delivered = await waitFor('the event delivered', () => receiver.received.find((r) => r.event.documentId === sent.id));
    const deliveries = await waitFor('the delivery listed', async () => {
      const listed = [];
      for await (const delivery of client.webhookEndpoints.deliveries(created.id, { pageSize: 1 })) listed.push(delivery);
      return listed.some((d) => d.eventId === delivered.event.id && d.status === 200) ? listed : undefined;
    });
    expect(new Set(deliveries.map((d) => d.id)).size).toBe(deliveries.length);
    const resend = await client.webhookEndpoints.resend(created.id, delivered.event.id);
    expect(resend).toMatchObject({ endpointId: created.id, eventId: delivered.event.id });
    await waitFor('the resend delivered', () => receiver.received.filter((r) => r.event.id === delivered.event.id).length >= 2);

    await client.webhookEndpoints.delete(created.id);
    expect((await client.webhookEndpoints.list()).map((e) => e.id)).not.toContain(created.id);
    await expect(client.webhookEndpoints.delete(created.id)).rejects.toMatchObject({ status: 404 });
    await expect(client.webhookEndpoints.get(created.id)).rejects.toMatchObject({ status: 404 });
  });
});
