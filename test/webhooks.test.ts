// Webhooks on a real system with a receiver on 127.0.0.1: endpoints managed over the API, events delivered
// signed (checked with node:crypto alone) and as the OpenAPI `webhooks` describe them, retried, resent,
// disabled after failing, shown on the board; and the address guard, tested as a check: no connection is
// ever opened to an address outside 127.0.0.0/8.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import { deleteOldDeliveries } from '../src/pg-store/delete-old-deliveries.js';
import { deleteOldEvents } from '../src/pg-store/delete-old-events.js';
import type { RawTransaction } from '../src/raw-store/collections.js';
import { newRawTransaction } from '../src/raw-store/insert.js';
import { checkedAddresses, guardedLookup, isRefusedAddress, RefusedAddressError } from '../src/webhook-endpoints/address-guard.js';
import type { WebhookEventMap } from '../src/webhooks/events.js';
import { hasChromium, launchChromium } from './support/browser.js';
import { mongoUri, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';
import { type Receiver, startReceiver, verifySignature as verify } from './support/webhook-receiver.js';

const WRITER = 'webhooks-writer-0123456789';

describe('the webhook address guard', () => {
  it('refuses loopback, private, link-local and metadata addresses, literal or resolved, before any connection', async () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::ffff:10.0.0.1',
      'fd00::1',
      'fe80::1',
    ])
      expect(isRefusedAddress(address), address).toBe(true);
    for (const address of ['93.184.216.34', '2606:4700::1111']) expect(isRefusedAddress(address), address).toBe(false);
    // A host name whose lookup answers a private address (the resolver is the test's: no DNS query is made).
    const resolve = async () => [{ address: '10.1.2.3', family: 4 }];
    await expect(checkedAddresses('hooks.example.com', { allowPrivate: false, resolve })).rejects.toThrow(RefusedAddressError);
    await expect(checkedAddresses('hooks.example.com', { allowPrivate: true, resolve })).resolves.toEqual([
      { address: '10.1.2.3', family: 4 },
    ]);
    // The connection's own lookup refuses it: the socket never gets an address to connect to.
    const refused = await new Promise<Error | null>((done) =>
      guardedLookup({ allowPrivate: false, resolve })('hooks.example.com', { all: false }, (error) => done(error)),
    );
    expect(refused).toBeInstanceOf(RefusedAddressError);
  });
});

describe.skipIf(!mongoUri)('webhooks', () => {
  const sys = useSystem({ API_KEYS: `acme:${WRITER}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });

  async function adminKey() {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    return (await createApiKey(accept, 'acme', ['admin'])).key;
  }

  /** The running system's API as an admin and as a writer. */
  async function clients(gateway: string) {
    const admin = await adminKey();
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${gateway}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const send = (payload: Record<string, unknown>) =>
      fetch(`${gateway}/api/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITER}` },
        body: JSON.stringify({ source: 'generic', payload }),
      }).then(async (r) => ((await r.json()) as { id: string }).id);
    const create = async (url: string, events: string[]) => {
      const created = await call('POST', '/api/v1/webhook-endpoints', { url, events });
      expect(created.status).toBe(201);
      return (await created.json()) as { id: string; secret: string };
    };
    return { admin, call, send, create };
  }
  const valid = (amountMinor: number) => ({ account: 'acc-1', amountMinor, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' });

  async function receiver(): Promise<Receiver> {
    const r = await startReceiver();
    sys.defer(() => r.close());
    return r;
  }

  it('a URL that reaches a private address is refused at creation unless WEBHOOK_ALLOW_PRIVATE_URLS', async () => {
    const system = await sys.start(['gateway', 'ingest'], {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'false',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,10.0.0.1,169.254.169.254,::1',
    });
    const { call } = await clients(system.gatewayUrl!);
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/hook',
    ]) {
      const response = await call('POST', '/api/v1/webhook-endpoints', { url, events: ['transaction.processed'] });
      expect(response.status, url).toBe(422);
      const problem = (await response.json()) as { detail: string; errors: Array<{ path: string }> };
      expect(problem.errors[0]!.path).toBe('body.url');
      expect(problem.detail).toMatch(/private, loopback or link-local/);
    }
    // A host outside WEBHOOK_ALLOWED_HOSTS is refused before any lookup.
    const outside = await call('POST', '/api/v1/webhook-endpoints', {
      url: 'https://hooks.example.com/prismo',
      events: ['transaction.processed'],
    });
    expect(outside.status).toBe(422);
    expect(((await outside.json()) as { detail: string }).detail).toBe('hooks.example.com is not one of WEBHOOK_ALLOWED_HOSTS');
  });

  it('delivers each event signed and as the contract says, retrying after failures; rotation, resends, metrics', async () => {
    const hook = await receiver();
    hook.answer(500);
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const attempted: WebhookEventMap['attempt'][0][] = [];
    system.webhooks!.on('attempt', (attempt) => attempted.push(attempt));
    const gateway = system.gatewayUrl!;
    const { call, send } = await clients(gateway);
    const contract = (await (await fetch(`${gateway}/openapi.json`)).json()) as {
      paths: Record<
        string,
        { post: { requestBody: { content: Record<string, { examples: Record<string, { value: { events: string[] } }> }> } } }
      >;
      webhooks: Record<string, { post: { requestBody: { content: { 'application/json': { schema: object } } } } }>;
    };
    // The OpenAPI document's example, with this receiver's URL in place of its host (never looked up here).
    const documented = contract.paths['/api/v1/webhook-endpoints']!.post.requestBody.content['application/json']!.examples.processed!.value;
    const created = await call('POST', '/api/v1/webhook-endpoints', { ...documented, url: hook.url });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string; secret: string; enabled: boolean };
    expect(endpoint.secret).toMatch(/^whsec_/);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await send(valid(10 + i)));
    const poison = await send({ account: 'acc-1', amountMinor: 1, currency: 'EUR' });

    // Two failed attempts of the first event, then the receiver answers 200.
    await waitFor('two failed attempts', async () =>
      sys.pg.db.one('SELECT count(*)::int AS n FROM webhook_deliveries', [], (r: { n: number }) => r.n >= 2),
    );
    hook.answer(200);
    await waitFor('four events delivered', async () => hook.ids().size === 4, { timeoutMs: 60_000 });
    expect(new Set(hook.received.map((r) => `${r.event.type} ${r.event.documentId}`))).toEqual(
      new Set([...ids.map((id) => `transaction.processed ${id}`), `transaction.dead ${poison}`]),
    );
    // Each body verifies with the secret (and not with another), and is what the contract's `webhooks` say.
    const ajv = new Ajv2020.default({ strict: false });
    addFormats.default(ajv);
    for (const r of hook.received) {
      expect(verify(r.signature, r.body, endpoint.secret)).toBe(true);
      const validate = ajv.compile(contract.webhooks[r.event.type]!.post.requestBody.content['application/json'].schema);
      expect(validate(r.event), JSON.stringify(validate.errors)).toBe(true);
    }
    expect(verify(hook.received[0]!.signature, hook.received[0]!.body, 'whsec_not-the-secret')).toBe(false);

    // The attempts, newest first: the first event's failures (HTTP 500), then each success with its delay.
    const deliveries = (await (await call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=100`)).json()) as {
      data: Array<{ eventId: string; status: number | null; attempt: number; delayMs: number | null; resend: boolean }>;
    };
    const failed = deliveries.data.filter((d) => d.status === 500);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failed.map((d) => d.eventId)).size).toBe(1);
    expect(
      deliveries.data
        .filter((d) => d.status === 200)
        .map((d) => d.eventId)
        .sort(),
    ).toEqual([...hook.ids()].sort());
    for (const d of deliveries.data) expect(d.delayMs === null).toBe(d.status !== 200);
    const listed = (await (await call('GET', '/api/v1/webhook-endpoints')).json()) as { data: Array<Record<string, unknown>> };
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).not.toHaveProperty('secret');
    expect(listed.data[0]!.failingSince).toBeNull();

    // /metrics: the attempts by outcome, the delay's count, the endpoint healthy with nothing pending.
    const metrics = await (await fetch(`${system.opsUrl}/metrics`)).text();
    const value = (pattern: string) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value(`prismo_webhook_attempts_total\\{endpoint="${endpoint.id}",outcome="failed"\\}`)).toBe(failed.length);
    expect(value(`prismo_webhook_attempts_total\\{endpoint="${endpoint.id}",outcome="delivered"\\}`)).toBe(4);
    expect(value('prismo_webhook_delivery_delay_seconds_count')).toBe(4);
    // The metrics are a subscriber of the deliverer's attempt events, which say as much as the attempts listed.
    expect(attempted.map((a) => [a.endpointId, a.tenantId, a.status, a.ok, a.delayMs === null]).sort()).toEqual(
      deliveries.data.map((d) => [endpoint.id, 'acme', d.status, d.status === 200, d.delayMs === null]).sort(),
    );
    for (const a of attempted) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    expect(value('prismo_webhook_endpoints\\{state="healthy"\\}')).toBe(1);
    expect(value('prismo_webhook_pending_events\\{endpoint="other"\\}')).toBe(0);

    // A resend: the same event once more, whatever the cursor, listed as a resend.
    const again = hook.received[0]!.event.id;
    const resend = await call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/resends`, { eventId: again });
    expect(resend.status).toBe(202);
    await waitFor('the resend delivered', async () => hook.received.filter((r) => r.event.id === again).length === 2);
    expect(
      (await call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/resends`, { eventId: 'evt_000000000000000000000000' })).status,
    ).toBe(404);

    // Rotation: a new secret, returned once; deliveries are signed with both until the overlap ends.
    const rotated = (await (await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { rotateSecret: true })).json()) as {
      secret: string;
    };
    expect(rotated.secret).not.toBe(endpoint.secret);
    const before = hook.received.length;
    await send(valid(99));
    await waitFor('the next event delivered', async () => hook.received.length > before);
    const last = hook.received.at(-1)!;
    expect(verify(last.signature, last.body, rotated.secret)).toBe(true);
    expect(verify(last.signature, last.body, endpoint.secret)).toBe(true);

    expect((await call('DELETE', `/api/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
    expect(((await (await call('GET', '/api/v1/webhook-endpoints')).json()) as { data: unknown[] }).data).toEqual([]);
  });

  it('a resend to an endpoint backing off is sent at once; its failing head event still waits for its time', async () => {
    const hook = await receiver();
    hook.answer(500);
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const { call, send, create } = await clients(system.gatewayUrl!);
    const endpoint = await create(hook.url, ['transaction.processed']);
    await send(valid(7));
    await waitFor('a failed attempt', async () =>
      sys.pg.db.one('SELECT attempts FROM webhook_endpoints WHERE id = $1', [endpoint.id], (r: { attempts: number }) => r.attempts > 0),
    );
    await sys.pg.db.none("UPDATE webhook_endpoints SET next_attempt_at = now() + interval '1 hour' WHERE id = $1", [endpoint.id]);
    const headAttempts = () =>
      sys.pg.db.one('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND NOT resend', [endpoint.id], (r) => r.n);
    const before = await headAttempts();
    const eventId = await sys.pg.db.one('SELECT id FROM events LIMIT 1', [], (r: { id: string }) => r.id);
    expect((await call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/resends`, { eventId })).status).toBe(202);
    // The resend's attempt is written, and its turn over (the lease given back): nothing else was tried.
    await waitFor('the resend attempted and the turn over', async () =>
      sys.pg.db.one(
        `SELECT (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND resend) = 1 AND lease_owner IS NULL AS done
           FROM webhook_endpoints WHERE id = $1`,
        [endpoint.id],
        (r: { done: boolean }) => r.done,
      ),
    );
    expect(await headAttempts()).toBe(before);
  });

  it('maxInFlight: up to that many posts at once, a failure posts the ones beside it again; the default stays one at a time, in order', async () => {
    const [parallel, ordered] = [await receiver(), await receiver()];
    for (const hook of [parallel, ordered]) hook.answer(200, 150);
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const { call, send } = await clients(system.gatewayUrl!);
    for (const maxInFlight of [0, 17, 2.5, null]) {
      const refused = await call('POST', '/api/v1/webhook-endpoints', {
        url: parallel.url,
        events: ['transaction.processed'],
        maxInFlight,
      });
      expect(refused.status, String(maxInFlight)).toBe(400);
    }
    const endpoints: Array<{ id: string; maxInFlight: number }> = [];
    for (const [hook, body] of [
      [parallel, { maxInFlight: 2 }],
      [ordered, {}],
    ] as const) {
      const created = await call('POST', '/api/v1/webhook-endpoints', {
        url: hook.url,
        events: ['transaction.processed'],
        enabled: false,
        ...body,
      });
      endpoints.push((await created.json()) as { id: string; maxInFlight: number });
    }
    expect(endpoints.map((e) => e.maxInFlight)).toEqual([2, 1]);
    // Twelve events recorded while both are disabled, so that each endpoint's first page holds them all.
    for (let i = 0; i < 12; i++) await send(valid(100 + i));
    await waitFor('twelve events recorded', async () => sys.pg.db.one('SELECT count(*)::int AS n FROM events', [], (r) => r.n === 12));
    const feed = await sys.pg.db.map('SELECT id FROM events ORDER BY txid, seq', [], (r: { id: string }) => r.id);
    // The parallel endpoint's sixth event fails once.
    parallel.failOnce((event) => event.id === feed[5]);
    // Enabled, the parallel one raised to 4 in the same PATCH.
    for (const [endpoint, change] of [
      [endpoints[0]!, { maxInFlight: 4 }],
      [endpoints[1]!, {}],
    ] as const) {
      const enabled = await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { enabled: true, ...change });
      expect(((await enabled.json()) as { maxInFlight: number }).maxInFlight).toBe(endpoint === endpoints[0] ? 4 : 1);
    }
    await waitFor('every event at both', async () => parallel.ids().size === 12 && ordered.ids().size === 12, { timeoutMs: 30_000 });
    // Each turn over, its attempts written, nothing failing.
    const deliveries = (id: string) =>
      sys.pg.db.any<{ event_id: string; attempt: number; status: number }>(
        'SELECT event_id, attempt, status FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id',
        [id],
      );
    await waitFor('both turns over, every attempt written', async () => {
      const idle = await sys.pg.db.one(
        'SELECT bool_and(lease_owner IS NULL AND attempts = 0) AS idle FROM webhook_endpoints',
        [],
        (r: { idle: boolean }) => r.idle,
      );
      const written = [(await deliveries(endpoints[0]!.id)).length, (await deliveries(endpoints[1]!.id)).length];
      return idle && written[0] === parallel.received.length + 1 && written[1] === 12;
    });

    // One at a time: each event once, in the feed's order.
    expect(ordered.peakInFlight()).toBe(1);
    expect(ordered.received.map((r) => r.event.id)).toEqual(feed);
    // Four at once (the PATCH's), never more. The events before the failed one arrived once, and at most three
    // beyond it (those posted beside it) before its retry; each event after it arrived (again) after the retry.
    expect(parallel.peakInFlight()).toBe(4);
    const arrivals = (id: string) => parallel.received.filter((r) => r.event.id === id).map((r) => r.at);
    for (const id of feed.slice(0, 5)) expect(arrivals(id)).toHaveLength(1);
    const retried = arrivals(feed[5]!);
    expect(retried).toHaveLength(1);
    for (const id of feed.slice(6)) expect(Math.max(...arrivals(id))).toBeGreaterThanOrEqual(retried[0]!);
    for (const id of feed.slice(9)) expect(Math.min(...arrivals(id))).toBeGreaterThanOrEqual(retried[0]!);
    // The failed event's attempts: the 500, then its retry, alone, numbered on; every other attempt a 200.
    const attempts = await deliveries(endpoints[0]!.id);
    expect(attempts.filter((a) => a.event_id === feed[5]).map((a) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    expect(attempts.filter((a) => a.event_id !== feed[5]).every((a) => a.status === 200 && a.attempt === 1)).toBe(true);
  });

  it("maxInFlight within the tenant's share: with WEBHOOK_CONCURRENCY 4 a lone tenant's endpoint at 8 has at most 1 + 2 posts in flight", async () => {
    const hook = await receiver();
    hook.answer(200, 150);
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer'], { WEBHOOK_CONCURRENCY: '4' });
    const { call, send } = await clients(system.gatewayUrl!);
    const created = await call('POST', '/api/v1/webhook-endpoints', {
      url: hook.url,
      events: ['transaction.processed'],
      enabled: false,
      maxInFlight: 8,
    });
    const endpoint = (await created.json()) as { id: string };
    for (let i = 0; i < 12; i++) await send(valid(200 + i));
    await waitFor('twelve events recorded', async () => sys.pg.db.one('SELECT count(*)::int AS n FROM events', [], (r) => r.n === 12));
    expect((await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { enabled: true })).status).toBe(200);
    await waitFor('every event delivered', async () => hook.ids().size === 12, { timeoutMs: 30_000 });
    // The endpoint's own post, and two more: the tenant's share of four slots when it is the one busy tenant.
    expect(hook.peakInFlight()).toBe(3);
  });

  it('an endpoint failing past WEBHOOK_DISABLE_AFTER_HOURS is disabled, with an event to the others and a gauge for the alert', async () => {
    const [failing, watcher] = [await receiver(), await receiver()];
    failing.answer(503);
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const disabled: WebhookEventMap['endpoint-disabled'][0][] = [];
    system.webhooks!.on('endpoint-disabled', (event) => disabled.push(event));
    const { call, send, create } = await clients(system.gatewayUrl!);
    const bad = await create(failing.url, ['transaction.processed']);
    await create(watcher.url, ['webhook_endpoint.disabled']);
    await send(valid(5));
    await waitFor('a failed attempt', async () =>
      sys.pg.db.one('SELECT attempts FROM webhook_endpoints WHERE id = $1', [bad.id], (r: { attempts: number }) => r.attempts > 0),
    );
    // As if it had failed for 73 hours (the default gives up after 72): its next attempt disables it.
    await sys.pg.db.none(
      "UPDATE webhook_endpoints SET failing_since = now() - interval '73 hours', next_attempt_at = now() WHERE id = $1",
      [bad.id],
    );
    await waitFor('the watcher told', async () => watcher.received.length === 1);
    const told = watcher.received[0]!.event as {
      id: string;
      type: string;
      documentId: string;
      data: { id: string; enabled: boolean; disabledReason: string };
    };
    expect(told.type).toBe('webhook_endpoint.disabled');
    expect(told.documentId).toBe(bad.id);
    expect(told.data.enabled).toBe(false);
    expect(told.data.disabledReason).toMatch(/^failing since .*: HTTP 503$/);
    const listed = (await (await call('GET', '/api/v1/webhook-endpoints')).json()) as { data: Array<{ id: string; enabled: boolean }> };
    expect(listed.data.find((e) => e.id === bad.id)!.enabled).toBe(false);
    // A disabled endpoint refuses a resend until it is enabled again.
    const resend = await call('POST', `/api/v1/webhook-endpoints/${bad.id}/resends`, { eventId: told.id });
    expect(resend.status).toBe(409);
    const metrics = await (await fetch(`${system.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^prismo_webhook_endpoints\{state="disabled_by_failure"\} 1$/m);
    expect(disabled).toEqual([{ endpointId: bad.id, tenantId: 'acme', error: 'HTTP 503' }]);
    // Disabled: no attempt more. A healthy endpoint created now receives the next event; by then the
    // deliverers have had their turn, and neither the disabled endpoint nor the watcher got anything.
    const attempts = await sys.pg.db.one('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [bad.id], (r) => r.n);
    const healthy = await receiver();
    await create(healthy.url, ['transaction.processed']);
    const next = await send(valid(6));
    await waitFor('the healthy endpoint served', async () => healthy.received.some((r) => r.event.documentId === next));
    expect(watcher.received).toHaveLength(1);
    expect(await sys.pg.db.one('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [bad.id], (r) => r.n)).toBe(
      attempts,
    );
  });

  it('attempts, done resends and events older than EVENTS_RETENTION_DAYS are deleted; newer ones stay', async () => {
    const db = sys.pg.db;
    await db.none(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret, cursor_txid)
       VALUES ('we_000000000000000000000001', 'acme', 'http://127.0.0.1:9/hook', '{transaction.processed}', 'whsec_x', '0')`,
    );
    for (const days of [31, 29]) {
      await db.none(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status, duration_ms, at)
         VALUES ('we_000000000000000000000001', $1, 1, 200, 1, now() - $2 * interval '1 day')`,
        [`evt_${String(days).padStart(24, '0')}`, days],
      );
      await db.none(
        `INSERT INTO webhook_resends (endpoint_id, event_id, done_at) VALUES ('we_000000000000000000000001', $1, now() - $2 * interval '1 day')`,
        [`evt_${String(days).padStart(24, '0')}`, days],
      );
      await db.none(
        `INSERT INTO events (id, tenant_id, type, raw_id, data, created) VALUES ($1, 'acme', 'transaction.dead', 'r', '{}', now() - $2 * interval '1 day')`,
        [`evt_${String(days).padStart(24, '0')}`, days],
      );
    }
    await db.none("INSERT INTO webhook_resends (endpoint_id, event_id) VALUES ('we_000000000000000000000001', 'evt_waiting')");
    expect(await deleteOldDeliveries(db, 30)).toBe(1);
    expect(await deleteOldEvents(db, 30)).toBe(1);
    expect(await db.map('SELECT event_id FROM webhook_deliveries', [], (r: { event_id: string }) => r.event_id)).toEqual([
      `evt_${'29'.padStart(24, '0')}`,
    ]);
    expect((await db.map('SELECT event_id FROM webhook_resends ORDER BY id', [], (r: { event_id: string }) => r.event_id)).sort()).toEqual(
      [`evt_${'29'.padStart(24, '0')}`, 'evt_waiting'].sort(),
    );
    expect(await db.map('SELECT id FROM events', [], (r: { id: string }) => r.id)).toEqual([`evt_${'29'.padStart(24, '0')}`]);
  });

  it('a receiver down for 60 s: attempts back off, then every event is delivered; the board shows them and resends one', async () => {
    const hook = await receiver();
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const gateway = system.gatewayUrl!;
    const { admin, send, create } = await clients(gateway);
    const endpoint = await create(hook.url, ['transaction.processed']);
    await send(valid(1));
    await waitFor('the first event delivered', async () => hook.received.length === 1);

    await hook.down();
    const downAt = Date.now();
    const during: string[] = [];
    for (let i = 0; i < 20; i++) during.push(await send(valid(100 + i)));
    await waitFor('60 s down', async () => Date.now() - downAt >= 60_000, { timeoutMs: 70_000, intervalMs: 500 });
    await hook.up();
    const upAt = Date.now();
    await waitFor('everything delivered', async () => hook.ids().size === 21, { timeoutMs: 120_000, intervalMs: 200 });
    const deliveredAt = Date.now();
    expect(new Set(hook.received.slice(1).map((r) => r.event.documentId))).toEqual(new Set(during));

    // The failed attempts were of the head event only, each after a longer wait than the one before (1 s
    // doubling, ±50 %): about six in a minute, not hundreds.
    const failures = await sys.pg.db.any<{ at: Date; attempt: number }>(
      'SELECT at, attempt FROM webhook_deliveries WHERE endpoint_id = $1 AND status IS NULL ORDER BY id',
      [endpoint.id],
    );
    expect(failures.length).toBeGreaterThanOrEqual(4);
    expect(failures.length).toBeLessThanOrEqual(10);
    expect(failures.map((f) => f.attempt)).toEqual(failures.map((_, i) => i + 1));
    const gaps = failures.slice(1).map((f, i) => f.at.getTime() - failures[i]!.at.getTime());
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]! * 2);
    console.info(
      `receiver down ${Math.round((upAt - downAt) / 1000)} s: ${failures.length} failed attempts, gaps ${gaps.map((g) => (g / 1000).toFixed(1)).join(', ')} s; the 20 events delivered ${((deliveredAt - upAt) / 1000).toFixed(1)} s after it came back`,
    );

    if (!hasChromium()) return;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway}/board`);
      await page.fill('#api-key', admin);
      await page.click('#key-form button[type=submit]');
      await expect.poll(() => page.locator('#webhook-endpoints tbody tr').count()).toBe(1);
      expect(await page.locator('#webhook-endpoints tbody td').nth(3).textContent()).toBe('healthy');
      await page.locator('#webhook-endpoints tbody button').click();
      await expect.poll(() => page.textContent('#deliveries-endpoint')).toBe(endpoint.id);
      // Newest first: the 20 deliveries, then the failed attempts (in red), then the first delivery.
      const rows = page.locator('#deliveries tbody tr');
      await expect.poll(() => rows.count()).toBe(21 + failures.length);
      expect(await page.locator('#deliveries tbody tr.warn-row').count()).toBe(failures.length);
      const first = rows.last();
      const firstId = hook.received[0]!.event.id;
      expect(await first.locator('td').nth(1).textContent()).toBe(firstId);
      await first.locator('button').click();
      await expect.poll(() => page.textContent('#deliveries-message'), { timeout: 20_000 }).toBe(`Resent ${firstId}: HTTP 200.`);
      expect(hook.received.filter((r) => r.event.id === firstId)).toHaveLength(2);
      expect(await rows.first().locator('td').nth(3).textContent()).toBe('1 (resend)');
    } finally {
      await browser.close();
    }
  }, 240_000);
});

describe.skipIf(!mongoUri)('deliverers as processes', () => {
  const sys = useSystem({ POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });
  const CLI = fileURLToPath(new URL('../bin/prismo.js', import.meta.url));
  const children = new Set<ChildProcess>();
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
  });

  /** `prismo serve --role deliverer` with PostgreSQL alone; resolves once it says it runs. */
  async function spawnDeliverer(worker: string) {
    const child = spawn(process.execPath, [CLI, 'serve', '--role', 'deliverer'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: sys.pg.url,
        WORKER_ID: worker,
        LOG_LEVEL: 'info',
        OPS_PORT: '0',
        // A killed deliverer's endpoints are taken over once its lease lapses.
        LEASE_MS: '2000',
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(child);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => line.includes('"prismo is running"') && resolve());
      void exited.then(() => reject(new Error(`deliverer ${worker} exited before it ran`)));
    });
    return { child, exited };
  }

  it('kill -9 of a deliverer mid-delivery: every event delivered to every endpoint at least once, duplicates only by event id', async () => {
    const hooks = [await startReceiver(), await startReceiver(), await startReceiver()];
    for (const hook of hooks) {
      sys.defer(() => hook.close());
      hook.answer(200, 5); // each answer takes 5 ms, so that a kill finds deliveries in flight
    }
    const system = await sys.start(['gateway', 'ingest', 'processor']);
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    const admin = (await createApiKey(accept, 'acme', ['admin'])).key;
    const endpoints: string[] = [];
    for (const hook of hooks) {
      const created = await fetch(`${system.gatewayUrl}/api/v1/webhook-endpoints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ url: hook.url, events: ['transaction.processed'] }),
      });
      endpoints.push(((await created.json()) as { id: string }).id);
    }
    const total = 600;
    await sys.mongo.raw.insertMany(
      Array.from(
        { length: total },
        (_, i) =>
          newRawTransaction('acme', {
            source: 'generic',
            payload: { account: 'acc-1', amountMinor: i + 1, currency: 'EUR', occurredAt: '2026-11-24T00:00:00Z' },
          }) as RawTransaction,
      ),
    );
    await waitFor('every event recorded', async () =>
      sys.pg.db.one('SELECT count(*)::int AS n FROM events', [], (r: { n: number }) => r.n === total),
    );
    const expected = new Set(await sys.pg.db.map('SELECT id FROM events', [], (r: { id: string }) => r.id));

    // Two deliverers share the three endpoints; the first is killed while one of its endpoints has a
    // request in flight, a third starts, and the lapsed leases pass to the survivors.
    const first = await spawnDeliverer('deliverer-a');
    await spawnDeliverer('deliverer-b');
    const victim = await waitFor('an endpoint of deliverer-a mid-delivery', async () => {
      const held = await sys.pg.db.any<{ id: string }>("SELECT id FROM webhook_endpoints WHERE lease_owner = 'deliverer-a'");
      const hook = held.map((e) => hooks[endpoints.indexOf(e.id)]!).find((h) => h.received.length >= 50 && h.inFlight() > 0);
      return hook ?? null;
    });
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const atKill = victim.received.length;
    await spawnDeliverer('deliverer-c');
    for (const [i, hook] of hooks.entries())
      await waitFor(`endpoint ${i} has every event`, async () => hook.ids().size === total, { timeoutMs: 60_000, intervalMs: 100 });

    const duplicates = hooks.map((hook) => hook.received.length - total);
    for (const hook of hooks) {
      expect(hook.ids()).toEqual(expected);
      // A duplicate is the same event again: same id, same body.
      const bodies = new Map<string, string>();
      for (const r of hook.received) {
        expect(bodies.get(r.event.id) ?? r.body).toBe(r.body);
        bodies.set(r.event.id, r.body);
      }
    }
    console.info(
      `kill -9 of a deliverer at ${atKill}/${total} events of one endpoint: every endpoint got all ${total}; duplicates per endpoint ${duplicates.join(', ')}`,
    );
  }, 120_000);
});
