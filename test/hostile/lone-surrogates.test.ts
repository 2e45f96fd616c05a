// Issue 42, the door: a lone UTF-16 surrogate (`"\ud800"`, valid JSON, no Unicode text) is refused with a 400
// naming its path, as NUL is. Before, a tenant could turn any request with an Idempotency-Key into a 500
// (RFC 8785 canonicalization throws on it; in a batch, one item failed the whole request), and without a key
// the payload was stored altered (BSON writes U+FFFD in its place), not as sent.
import { describe, expect, it } from 'vitest';
import { mongoUri } from '../support/databases.js';
import { useSystem } from '../support/system.js';

const API_KEY = 'hostile-surrogate-key-0123456789';
const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

/** A generic envelope as raw JSON text, `note` spliced in as written (escapes kept). */
const envelope = (externalId: string, note: string, noteKey = 'note') =>
  `{"source":"generic","externalId":"${externalId}","payload":{"account":"acc-1","amount":"1.00","currency":"EUR","occurredAt":"2026-11-28T12:00:00Z","${noteKey}":"${note}"}}`;

interface Problem {
  type?: string;
  detail?: string;
  errors?: Array<{ path: string; message: string }>;
  results?: Array<{ index: number; status: number; problem?: Problem }>;
}

describe.skipIf(!mongoUri)('hostile: lone UTF-16 surrogates', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}` });

  it('a single POST with one, in a string or a key, with or without an Idempotency-Key, is a 400 naming the path; nothing stored', async () => {
    const system = await sys.start(['gateway', 'ingest']);
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${system.gatewayUrl}/api/v1/transactions`, { method: 'POST', headers: { ...auth, ...headers }, body });
      return { status: response.status, body: (await response.json()) as Problem };
    };
    for (const [body, headers, path] of [
      [envelope('s-1', 'a\\ud800'), { 'idempotency-key': 'lone-1' }, 'payload.note'],
      [envelope('s-2', 'a\\udfffb'), {}, 'payload.note'],
      // The large path (parsed in slices) decodes escapes itself: the same refusal.
      [envelope('s-3', `${'x'.repeat(70_000)}\\udc00`), { 'idempotency-key': 'lone-3' }, 'payload.note'],
      [envelope('s-4', 'fine', 'k\\ud83d'), { 'idempotency-key': 'lone-4' }, 'payload.k\\ud83d'],
    ] as const) {
      const answer = await post(body, headers);
      expect(answer.status, body.slice(0, 80)).toBe(400);
      expect(answer.body.type).toBe('/problems/validation-error');
      expect(answer.body.errors?.[0]?.path).toBe(path);
      expect(answer.body.errors?.[0]?.message).toMatch(/lone UTF-16 surrogate/);
    }
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
    // A pair (an emoji, escaped) is Unicode: accepted and stored as sent.
    const pair = await post(envelope('s-5', '\\ud83d\\ude00'), { 'idempotency-key': 'pair-5' });
    expect(pair.status).toBe(202);
    const stored = await sys.mongo.db.collection('raw_transactions').findOne({ externalId: 's-5' });
    expect((stored?.payload as { note?: string } | undefined)?.note).toBe('\u{1F600}');
  });

  it('in a batch with an Idempotency-Key, only that item is refused; the answer is replayed for the same key', async () => {
    const system = await sys.start(['gateway', 'ingest']);
    const body = `{"items":[${envelope('b-0', 'a\\ud800')},${envelope('b-1', 'ok')}]}`;
    const post = async () => {
      const response = await fetch(`${system.gatewayUrl}/api/v1/transactions/batch`, {
        method: 'POST',
        headers: { ...auth, 'idempotency-key': 'lone-batch' },
        body,
      });
      return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as Problem };
    };
    const first = await post();
    expect(first.status).toBe(207);
    expect(first.body.results?.map((result) => result.status)).toEqual([400, 202]);
    expect(first.body.results?.[0]?.problem?.errors?.[0]?.path).toBe('items.0.payload.note');
    const again = await post();
    expect(again.status).toBe(207);
    expect(again.replayed).toBe('true');
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(1);
  });
});
