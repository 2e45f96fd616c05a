// The typed client's webhooks.verify against what the server really sends: every delivery of a real run (a receiver
// on 127.0.0.1) verifies and comes back as the typed event; a body changed by one byte, a wrong secret, an old
// timestamp and a missing header are refused with their reason; both secrets of a rotation verify. The headers of
// the pure cases are made by the server's own signing code (src/webhook-endpoints/signature.ts).
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  type VerifyOptions,
  verify,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventData,
  WebhookVerificationError,
  type WebhookVerificationReason,
  webhooks,
} from '../../clients/typescript/src/webhooks.js';
import { EVENT_TYPES } from '../../src/domain/events.js';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey } from '../../src/gateway/api-key-store.js';
import type { EVENT_DATA_SCHEMAS } from '../../src/gateway/routes/events.js';
import { newSecret, signatureHeader } from '../../src/webhook-endpoints/signature.js';
import { mongoUri, waitFor } from '../support/databases.js';
import { useSystem } from '../support/system.js';
import { startReceiver } from '../support/webhook-receiver.js';

// The hand-written event types of the client are the server's schemas' output, field for field: tsc fails here if not.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ServerData = { [T in keyof typeof EVENT_DATA_SCHEMAS]: z.output<(typeof EVENT_DATA_SCHEMAS)[T]> };
const sameData: { [T in keyof ServerData]: Same<ServerData[T], WebhookEventData[T]> } = {
  'transaction.processed': true,
  'transaction.updated': true,
  'transaction.voided': true,
  'transaction.failed': true,
  'transaction.dead': true,
  'statement.processed': true,
  'webhook_endpoint.disabled': true,
};

/** The reason verify refused with (it must refuse). */
function refusal(...args: Parameters<typeof verify>): WebhookVerificationReason {
  try {
    verify(...args);
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookVerificationError);
    return (error as WebhookVerificationError).reason;
  }
  throw new Error('verify accepted it');
}

describe('webhooks.verify, pure', () => {
  const secret = newSecret();
  const body = JSON.stringify({
    id: 'evt_0123456789abcdef01234567',
    type: 'statement.processed',
    created: '2026-12-07T10:00:00.000Z',
    documentId: 'stm_1',
    data: { id: 'stm_1', status: 'processed', version: 'camt.053.001.08', receivedAt: '2026-12-07T09:59:59.000Z', statements: [] },
  });
  const t = 1_800_000_000;
  const at: VerifyOptions = { now: t * 1000 };

  it('knows the event types the server sends, and its types are the server schemas’ output', () => {
    expect([...WEBHOOK_EVENT_TYPES]).toEqual([...EVENT_TYPES]);
    expect(Object.values(sameData).every(Boolean)).toBe(true);
  });

  it('accepts the server’s header over the text or the bytes, with one secret or either of two', () => {
    const header = signatureHeader([secret], t, body);
    expect(verify(body, header, secret, at)).toEqual(JSON.parse(body));
    expect(verify(new TextEncoder().encode(body), header, secret, at)).toEqual(JSON.parse(body));
    expect(verify(Buffer.from(body), header, [newSecret(), secret], at).type).toBe('statement.processed');
    expect(webhooks.verify(body, [header], secret, { now: new Date(t * 1000) }).id).toBe('evt_0123456789abcdef01234567');
    // Spaces around the parts and a scheme it does not know (v0, a future v2) are tolerated.
    expect(verify(body, `v0=abc, ${header.replace(',', ' , ')},v2=zz`, secret, at).documentId).toBe('stm_1');
  });

  it('says why it refuses: missing, malformed, no match, out of tolerance', () => {
    const header = signatureHeader([secret], t, body);
    for (const missing of [undefined, null, '', '  ', []]) expect(refusal(body, missing, secret, at)).toBe('missing-header');
    const v1 = header.split(',')[1]!;
    for (const malformed of [
      v1, // no t
      `t=${t}`, // no v1
      `t=${t},t=${t},${v1}`,
      `t=-5,${v1}`,
      `t=1.5e9,${v1}`,
      `t=${t},v1=${'a'.repeat(63)}`,
      `t=${t},v1=${'g'.repeat(64)}`,
      `t=${t},${v1},garbage`,
      `${header},${'v0=x'.padEnd(1100, 'x')}`,
    ])
      expect(refusal(body, malformed, secret, at), malformed.slice(0, 60)).toBe('malformed-header');
    expect(refusal(body, header, 'whsec_wrong', at)).toBe('no-matching-signature');
    expect(refusal(`${body} `, header, secret, at)).toBe('no-matching-signature');
    expect(refusal(body, signatureHeader([secret], t + 1, body).replace(`t=${t + 1}`, `t=${t}`), secret, at)).toBe('no-matching-signature');
    // Never parsed before verifying: a body that is not JSON is refused for its signature, not a SyntaxError.
    expect(refusal('{not json', header, secret, at)).toBe('no-matching-signature');
    expect(refusal(body, header, secret, { now: (t + 301) * 1000 })).toBe('timestamp-outside-tolerance');
    expect(refusal(body, header, secret, { now: (t - 301) * 1000 })).toBe('timestamp-outside-tolerance');
    expect(verify(body, header, secret, { now: (t + 300) * 1000 }).type).toBe('statement.processed');
    expect(refusal(body, header, secret, { now: (t + 61) * 1000, toleranceSeconds: 60 })).toBe('timestamp-outside-tolerance');
  });

  it('refuses to run without a secret (a programming error, not a bad delivery)', () => {
    const header = signatureHeader([secret], t, body);
    expect(() => verify(body, header, [], at)).toThrow(TypeError);
    expect(() => verify(body, header, '', at)).toThrow(TypeError);
    expect(() => verify(body, header, secret, { ...at, toleranceSeconds: Number.NaN })).toThrow(TypeError);
  });
});

describe.skipIf(!mongoUri)('webhooks.verify on a real run', () => {
  const WRITER = 'webhooks-verify-writer-0123456789';
  const sys = useSystem({ API_KEYS: `acme:${WRITER}`, POLL_INTERVAL_MS: '200', BATCH_MAX_WAIT_MS: '20' });

  /** The running system's API as an admin (webhook endpoints) and as a writer (transactions). */
  async function api(gateway: string) {
    const accept = acceptCollections(sys.mongo.db);
    await ensureAcceptIndexes(accept);
    const admin = (await createApiKey(accept, 'acme', ['admin'])).key;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${gateway}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.json()) as { id: string; secret: string };
    };
    const send = async (payload: Record<string, unknown>) => {
      const response = await fetch(`${gateway}/api/v1/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITER}` },
        body: JSON.stringify({ source: 'generic', payload }),
      });
      return ((await response.json()) as { id: string }).id;
    };
    return { call, send };
  }
  const valid = (amountMinor: number) => ({ account: 'acc-1', amountMinor, currency: 'EUR', occurredAt: '2026-11-24T10:00:00Z' });

  it('verifies every delivery as its typed event, refuses each tampering with its reason, and both secrets of a rotation', async () => {
    const hook = await startReceiver();
    sys.defer(() => hook.close());
    const system = await sys.start(['gateway', 'ingest', 'processor', 'deliverer']);
    const { call, send } = await api(system.gatewayUrl!);
    const endpoint = await call('POST', '/api/v1/webhook-endpoints', { url: hook.url, events: [...WEBHOOK_EVENT_TYPES] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    const processed = [await send(valid(11)), await send(valid(12)), await send(valid(13))];
    const dead = await send({ account: 'acc-1', amountMinor: 1, currency: 'EUR' }); // no occurredAt: dead at once
    await waitFor('the four documents’ events delivered', async () => {
      const about = new Set(hook.received.map((r) => r.event.documentId));
      return [...processed, dead].every((id) => about.has(id));
    });

    const events: WebhookEvent[] = hook.received.map((r) => verify(r.body, r.signature, endpoint.secret));
    expect(events).toEqual(hook.received.map((r) => JSON.parse(r.body)));
    const seen = new Map<string, string>();
    for (const event of events) {
      // The union narrows by `type`: each branch reads fields only that type's data has.
      switch (event.type) {
        case 'transaction.processed':
        case 'transaction.updated':
        case 'transaction.voided':
          seen.set(event.documentId, `${event.type} ${event.data.amount.currency}`);
          break;
        case 'transaction.failed':
        case 'transaction.dead':
          seen.set(event.documentId, `${event.type} ${event.data.status}`);
          break;
        default:
          seen.set(event.documentId, event.type);
      }
    }
    for (const id of processed) expect(seen.get(id)).toBe('transaction.processed EUR');
    expect(seen.get(dead)).toBe('transaction.dead dead');

    const { body, signature } = hook.received[0]!;
    const t = Number(/t=(\d+)/.exec(signature)![1]);
    // One byte changed, in the text and in the bytes.
    const bytes = Buffer.from(body);
    bytes[bytes.indexOf('"') + 1]! ^= 1;
    expect(refusal(bytes, signature, endpoint.secret)).toBe('no-matching-signature');
    expect(refusal(bytes.toString(), signature, endpoint.secret)).toBe('no-matching-signature');
    expect(refusal(body, signature, newSecret())).toBe('no-matching-signature');
    expect(refusal(body, undefined, endpoint.secret)).toBe('missing-header');
    // Ten minutes old: the real header checked 10 minutes on, and the body signed again with a t 10 minutes back.
    expect(refusal(body, signature, endpoint.secret, { now: (t + 600) * 1000 })).toBe('timestamp-outside-tolerance');
    const replayed = signatureHeader([endpoint.secret], Math.floor(Date.now() / 1000) - 600, body);
    expect(refusal(body, replayed, endpoint.secret)).toBe('timestamp-outside-tolerance');

    // Rotation: the next delivery carries two v1, and either secret verifies it, alone or as a pair.
    const rotated = await call('PATCH', `/api/v1/webhook-endpoints/${endpoint.id}`, { rotateSecret: true });
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(endpoint.secret);
    const next = await send(valid(99));
    const delivery = await waitFor('the event after the rotation delivered', async () =>
      hook.received.find((r) => r.event.documentId === next && r.event.type === 'transaction.processed'),
    );
    expect(delivery.signature.match(/v1=/g)).toHaveLength(2);
    for (const secrets of [rotated.secret, endpoint.secret, [rotated.secret, endpoint.secret], [newSecret(), rotated.secret]])
      expect(verify(delivery.body, delivery.signature, secrets).documentId).toBe(next);
    expect(refusal(delivery.body, delivery.signature, [newSecret(), newSecret()])).toBe('no-matching-signature');
  });
});
