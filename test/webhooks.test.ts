// Webhooks on a real system with a receiver on 127.0.0.1: endpoints managed over the API, events delivered
// signed (checked here with node:crypto alone), retried after failures; and the address guard, tested as a
// check: no connection is ever opened to an address outside 127.0.0.0/8.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { acceptCollections, ensureAcceptIndexes } from '../src/gateway/accept-collections.js';
import { createApiKey } from '../src/gateway/api-key-store.js';
import { checkedAddresses, guardedLookup, isRefusedAddress, RefusedAddressError } from '../src/webhooks/address-guard.js';
import { mongoUri, waitFor } from './support/databases.js';
import { useSystem } from './support/system.js';

const WRITER = 'webhooks-writer-0123456789';

/** What a receiver does with Prismo-Signature, with node:crypto alone (docs/api.md shows the same). */
function verify(header: string, body: string, secret: string, toleranceSeconds = 300): boolean {
  const parts = header.split(',').map((part) => part.split('=') as [string, string]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  return parts.some(([k, v]) => k === 'v1' && v.length === 64 && timingSafeEqual(Buffer.from(v, 'hex'), expected));
}

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

  it('a URL that reaches a private address is refused at creation unless WEBHOOK_ALLOW_PRIVATE_URLS', async () => {
    const system = await sys.start(['gateway', 'ingest'], {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'false',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,10.0.0.1,169.254.169.254,::1',
    });
    const admin = await adminKey();
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://10.0.0.1/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/hook',
    ]) {
      const response = await fetch(`${system.gatewayUrl}/api/v1/webhook-endpoints`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify({ url, events: ['transaction.processed'] }),
      });
      expect(response.status, url).toBe(422);
      const problem = (await response.json()) as { detail: string; errors: Array<{ path: string }> };
      expect(problem.errors[0]!.path).toBe('body.url');
      expect(problem.detail).toMatch(/private, loopback or link-local/);
    }
    // A host outside WEBHOOK_ALLOWED_HOSTS is refused before any lookup.
    const outside = await fetch(`${system.gatewayUrl}/api/v1/webhook-endpoints`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ url: 'https://hooks.example.com/prismo', events: ['transaction.processed'] }),
    });
    expect(outside.status).toBe(422);
    expect(((await outside.json()) as { detail: string }).detail).toBe('hooks.example.com is not one of WEBHOOK_ALLOWED_HOSTS');
  });

  it('delivers each event signed, at least once, retrying after failures; secrets rotate with an overlap', async () => {
    const received: Array<{ body: string; signature: string }> = [];
    let failuresLeft = 2;
    const receiver = createServer((request: IncomingMessage, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        if (failuresLeft-- > 0) return void response.writeHead(500).end();
        received.push({ body, signature: String(request.headers['prismo-signature']) });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sys.defer(() => new Promise((resolve) => receiver.close(resolve)));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const gateway = system.gatewayUrl!;
    const admin = await adminKey();
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${gateway}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    // The OpenAPI document's example, with this receiver's URL in place of its host (never looked up here).
    const documented = (
      (await (await fetch(`${gateway}/openapi.json`)).json()) as {
        paths: Record<
          string,
          { post: { requestBody: { content: Record<string, { examples: Record<string, { value: { events: string[] } }> }> } } }
        >;
      }
    ).paths['/api/v1/webhook-endpoints']!.post.requestBody.content['application/json']!.examples.processed!.value;
    const created = await call('POST', '/api/v1/webhook-endpoints', { ...documented, url: hook });
    expect(created.status).toBe(201);
    const endpoint = (await created.json()) as { id: string; secret: string; enabled: boolean };
    expect(endpoint.secret).toMatch(/^whsec_/);
    const send = (payload: Record<string, unknown>) =>
      fetch(`${gateway}/api/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITER}` },
        body: JSON.stringify({ source: 'generic', payload }),
      }).then(async (r) => ((await r.json()) as { id: string }).id);
    const ids = [];
    for (let i = 0; i < 3; i++)
      ids.push(await send({ account: 'acc-1', amountMinor: 10 + i, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' }));
    const poison = await send({ account: 'acc-1', amountMinor: 1, currency: 'EUR' });

    const deliveredIds = () => new Set(received.map((r) => (JSON.parse(r.body) as { id: string }).id));
    await waitFor('four events delivered', async () => deliveredIds().size === 4);
    const events = received.map((r) => JSON.parse(r.body) as { id: string; type: string; documentId: string });
    expect(new Set(events.map((e) => `${e.type} ${e.documentId}`))).toEqual(
      new Set([...ids.map((id) => `transaction.processed ${id}`), `transaction.dead ${poison}`]),
    );
    for (const r of received) expect(verify(r.signature, r.body, endpoint.secret)).toBe(true);
    expect(verify(received[0]!.signature, received[0]!.body, 'whsec_not-the-secret')).toBe(false);
    // Two failed attempts recorded, then every event delivered; the endpoint is healthy again.
    const attempts = await sys.pg.db.any<{ status: number | null }>('SELECT status FROM webhook_deliveries ORDER BY id');
    expect(attempts.slice(0, 2).map((a) => a.status)).toEqual([500, 500]);
    const listed = (await (await call('GET', '/api/v1/webhook-endpoints')).json()) as { data: Array<Record<string, unknown>> };
    expect(listed.data).toHaveLength(1);
    expect(listed.data[0]).not.toHaveProperty('secret');
    expect(listed.data[0]!.failingSince).toBeNull();

    // Rotation: a new secret, returned once; deliveries are signed with both until the overlap ends.
    const rotated = (await (await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { rotateSecret: true })).json()) as {
      secret: string;
    };
    expect(rotated.secret).not.toBe(endpoint.secret);
    const before = received.length;
    await send({ account: 'acc-1', amountMinor: 99, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' });
    await waitFor('the next event delivered', async () => received.length > before);
    const last = received.at(-1)!;
    expect(verify(last.signature, last.body, rotated.secret)).toBe(true);
    expect(verify(last.signature, last.body, endpoint.secret)).toBe(true);

    expect((await call('DELETE', `/api/v1/webhook-endpoints/${endpoint.id}`)).status).toBe(204);
    expect(((await (await call('GET', '/api/v1/webhook-endpoints')).json()) as { data: unknown[] }).data).toEqual([]);
  });
});
