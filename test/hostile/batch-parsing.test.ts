// Issue 42, "JSON bodies never block the loop": crafted 10–16 MiB batch bodies sent with an ordinary tenant key
// (many keys in one item, deep nesting, a long array of zeros) never hold the event loop every tenant shares.
// Each runs while /healthz is probed every 50 ms, on the real gateway and ingestion service.
import { describe, expect, it } from 'vitest';
import type { System } from '../../src/cli/system.js';
import { mongoUri } from '../support/databases.js';
import { PROBE_BAR_MS, whileProbing } from '../support/health-probe.js';
import { useSystem } from '../support/system.js';

const API_KEY = 'hostile-batch-key-0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };
const MiB = 1024 * 1024;

/** One item whose payload holds `n` keys: about 11 bytes a key. */
const manyKeys = (n: number) => {
  const keys = Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',');
  return Buffer.from(`{"items":[{"source":"generic","externalId":"keys","payload":{${keys}}}]}`);
};
/** Arrays nested `n` deep as the only item. */
const deep = (n: number) => Buffer.from(`{"items":[${'['.repeat(n)}${']'.repeat(n)}]}`);
/** One item whose payload holds an array of zeros filling `bytes`. */
const zeros = (bytes: number) => {
  const head = '{"items":[{"source":"generic","externalId":"zeros","payload":{"z":[';
  const tail = '0]}}]}';
  return Buffer.from(head + '0,'.repeat(Math.floor((bytes - head.length - tail.length) / 2)) + tail);
};
/** `count` ordinary envelopes, each with a description of `textBytes`: large, and within every limit. */
const ordinary = (count: number, textBytes: number) =>
  Buffer.from(
    JSON.stringify({
      items: Array.from({ length: count }, (_, i) => ({
        source: 'generic',
        externalId: `large-${i}`,
        payload: {
          account: 'acc-1',
          amount: '12.34',
          currency: 'EUR',
          occurredAt: '2026-11-28T12:00:00Z',
          description: 'd'.repeat(textBytes),
        },
      })),
    }),
  );

interface Answer {
  status: number;
  contentType: string | null;
  body: { type?: string; detail?: string; accepted?: number; results?: Array<{ status: number }> };
  ms: number;
}

describe.skipIf(!mongoUri)('hostile: large JSON bodies never hold the event loop', () => {
  const sys = useSystem({ API_KEYS: `acme:${API_KEY}` });
  let system: System;

  const postBatch = async (body: Buffer): Promise<Answer> => {
    const started = performance.now();
    const res = await fetch(`${system.gatewayUrl}/api/v1/transactions/batch`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body,
    });
    const answer = (await res.json()) as Answer['body'];
    return { status: res.status, contentType: res.headers.get('content-type'), body: answer, ms: performance.now() - started };
  };

  it('900k keys, 5M-deep arrays and 16 MiB of zeros at once are answered promptly, each item past its limits refused; /healthz never waits 250 ms', async () => {
    // A share of three, so all three are read (past the share, a 429 before reading: the test after next).
    system = await sys.start(['gateway', 'ingest'], { JSON_PARSE_PER_TENANT: '3' });
    // Built before the probe starts: this process is the server's too.
    const bodies = { keys: manyKeys(900_000), deep: deep(5 * MiB), zeros: zeros(16 * MiB - 1024) };
    expect(bodies.keys.length).toBeGreaterThan(10 * MiB);
    expect(bodies.zeros.length).toBeLessThan(16 * MiB);
    const { result, worstMs } = await whileProbing(system.gatewayUrl!, () => Promise.all(Object.values(bodies).map(postBatch)));
    const [keys, nested, zeroes] = result;
    console.info(
      `crafted batches: ${result.map((a) => `${a.status} in ${a.ms.toFixed(0)} ms`).join(', ')}; worst /healthz wait ${worstMs.toFixed(0)} ms`,
    );
    // The items past JSON_MAX_ENVELOPE_VALUES are left unbuilt as they are read, and refused alone.
    for (const answer of [keys!, zeroes!]) {
      expect(answer.status).toBe(207);
      expect(answer.body.accepted).toBe(0);
      expect(answer.body.results).toEqual([
        {
          index: 0,
          status: 413,
          problem: expect.objectContaining({
            type: '/problems/document-too-large',
            detail: expect.stringMatching(/^items\.0 holds more than 10000 keys and values \(JSON_MAX_ENVELOPE_VALUES\)/),
          }),
        },
      ]);
    }
    expect(nested!.status).toBe(400);
    expect(nested!.contentType).toMatch(/^application\/problem\+json/);
    expect(nested!.body.detail).toMatch(/nests deeper than 128 levels/);
    expect(worstMs).toBeLessThan(PROBE_BAR_MS);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
  });

  it('a batch past JSON_MAX_VALUES in all is a 413 problem as it is read, nothing stored', async () => {
    system = await sys.start(['gateway', 'ingest']);
    // 1,000 items of 150 values each: every item within its count, the body past 100,000.
    const item = (i: number) => `{"source":"generic","externalId":"v-${i}","payload":{"z":[${'0,'.repeat(140)}0]}}`;
    const body = Buffer.from(`{"items":[${Array.from({ length: 1_000 }, (_, i) => item(i)).join(',')}]}`);
    const answer = await postBatch(body);
    expect(answer.status).toBe(413);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(answer.body.type).toBe('/problems/json-too-many-values');
    expect(answer.body.detail).toMatch(/more than 100000 keys and values \(JSON_MAX_VALUES/);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(0);
  });

  it('a 10 MiB batch within every limit is read in slices and stored: 207 with each item 202', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const body = ordinary(1_000, 10_000);
    expect(body.length).toBeGreaterThan(9.5 * MiB);
    const { result, worstMs } = await whileProbing(system.gatewayUrl!, () => postBatch(body));
    console.info(
      `1,000 ordinary items (${(body.length / MiB).toFixed(1)} MiB): ${result.status} in ${result.ms.toFixed(0)} ms; worst /healthz wait ${worstMs.toFixed(0)} ms`,
    );
    expect(result.status).toBe(207);
    expect(result.body.accepted).toBe(1_000);
    expect(await sys.mongo.db.collection('raw_transactions').countDocuments()).toBe(1_000);
  });

  it('a tenant past its share of large bodies is refused with 429 before the body is read; others still get theirs', async () => {
    system = await sys.start(['gateway', 'ingest'], { JSON_PARSE_PER_TENANT: '1' });
    const body = zeros(4 * MiB);
    const answers = await Promise.all([postBatch(body), postBatch(body)]);
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([207, 429]);
    const refused = answers.find((a) => a.status === 429)!;
    expect(refused.body.type).toBe('/problems/large-bodies-quota');
    expect(refused.body.detail).toMatch(/at most 1 at once \(JSON_PARSE_PER_TENANT\)/);
    // The place is given back with the answer: the next one is read.
    expect((await postBatch(body)).status).toBe(207);
  });

  it('requests that send no body (a GET with a JSON content type) take no place, however many a tenant sends at once', async () => {
    system = await sys.start(['gateway', 'ingest'], { JSON_PARSE_PER_TENANT: '1' });
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const res = await fetch(`${system.gatewayUrl}/api/v1/transactions?limit=1`, {
          headers: { ...auth, 'content-type': 'application/json' },
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(statuses).toEqual(Array(6).fill(200));
    // A chunked body (no length announced) still takes one.
    const chunked = await Promise.all(
      [0, 1].map(async () => {
        const res = await fetch(`${system.gatewayUrl}/api/v1/transactions/batch`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: new Blob([zeros(2 * MiB)]).stream(),
          duplex: 'half',
        } as RequestInit);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(chunked.sort()).toEqual([207, 429]);
  });

  it('a large body holding "__proto__" is refused at its path as a small one is, never reaching a prototype', async () => {
    system = await sys.start(['gateway', 'ingest']);
    const padding = 'p'.repeat(100_000);
    const body = Buffer.from(
      `{"items":[{"source":"generic","externalId":"proto","payload":{"account":"a","amount":"1.00","currency":"EUR","occurredAt":"2026-11-28T12:00:00Z","note":"${padding}","__proto__":{"polluted":true}}}]}`,
    );
    const answer = await postBatch(body);
    expect(answer.status).toBe(207);
    expect(answer.body.results?.[0]?.status).toBe(400);
    expect(JSON.stringify(answer.body)).toContain('items.0.payload.__proto__');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });
});
