// Hostile and malformed requests for the gateway (fast-check, seeded): hostile keys, deep nesting, NUL,
// prototype-poisoning, broken JSON, wrong media types, odd methods and paths, batches of all of it. Shared by
// the API suite (everything up) and the accept-path suite (PostgreSQL down).
import fc from 'fast-check';
import { expect } from 'vitest';

function requests() {
  const hostileKey = fc.constantFrom(
    '$where',
    '$gt',
    'a.b',
    '__proto__',
    'constructor',
    'prototype',
    '',
    ' ',
    'nul\u0000key',
    'ünï',
    '$',
    '.',
    'a..b',
  );
  const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const hostileObject = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.dictionary(fc.oneof(hostileKey, fc.string()), tie('node'), { maxKeys: 4 }),
      fc.array(tie('node'), { maxLength: 4 }),
    ),
  })).node;
  const deep = fc.integer({ min: 20, max: 200 }).map((depth) => {
    let value: unknown = 'bottom';
    for (let i = 0; i < depth; i++) value = { d: value };
    return value;
  });
  const body = fc.oneof(
    fc.record(
      {
        source: fc.oneof(fc.constant('generic'), fc.string()),
        payload: fc.oneof(hostileObject, deep),
        externalId: fc.option(fc.string(), { nil: undefined }),
      },
      { requiredKeys: ['source'] },
    ),
    hostileObject,
    fc.json(),
    fc.string().map((s) => `{"source":"generic","payload":${s}`),
    fc.constantFrom(
      '{"__proto__":{"polluted":true},"source":"generic","payload":{}}',
      '{"source":"generic","payload":{"constructor":{"prototype":{"x":1}}}}',
      '[]',
      'null',
      '',
      '{',
    ),
    fc.array(fc.integer(), { minLength: 1_000, maxLength: 5_000 }).map((numbers) => ({ source: 'generic', payload: { numbers } })),
  );
  const single = fc.record({
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'PATCH'),
    path: fc.constantFrom(
      '/api/v1/transactions',
      '/api/v1/transactions',
      '/api/v1/transactions',
      `/api/v1/transactions/${'a'.repeat(24)}`,
      '/api/v1/transactions/zzz',
      '/api/v1/transactions?limit=abc',
      '/api/v1/transactions?starting_after=$gt',
    ),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      '',
    ),
    body,
    idempotencyKey: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
  });
  const batch = fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/api/v1/transactions/batch'),
    contentType: fc.constant('application/json'),
    body: fc.oneof(fc.record({ items: fc.array(body, { maxLength: 6 }) }), body),
    idempotencyKey: fc.constant(undefined),
  });
  const request = fc.oneof({ arbitrary: single, weight: 3 }, { arbitrary: batch, weight: 1 });

  return request;
}

export interface FuzzResult {
  statuses: Record<number, number>;
  /** Items the gateway answered 202 for (single or in a 207). */
  accepted: number;
}

/**
 * Sends `runs` generated requests, 20 at a time. A 500 always fails; a 503 fails unless `readsMayBeUnavailable`
 * and it answers a GET with Retry-After (PostgreSQL down). Every 4xx and 5xx must be problem+json.
 */
export async function fuzzGateway(
  url: string,
  key: string,
  { runs = 2_000, seed = 20261125, readsMayBeUnavailable = false } = {},
): Promise<FuzzResult> {
  const samples = fc.sample(requests(), { numRuns: runs, seed });
  const tally = new Map<number, number>();
  let accepted = 0;
  for (let i = 0; i < samples.length; i += 20) {
    await Promise.all(
      samples.slice(i, i + 20).map(async (sample) => {
        const hasBody = sample.method !== 'GET';
        const headers: Record<string, string> = { authorization: `Bearer ${key}` };
        if (hasBody && sample.contentType) headers['content-type'] = sample.contentType;
        if (sample.idempotencyKey !== undefined && /^[\x20-\x7e]*$/.test(sample.idempotencyKey))
          headers['idempotency-key'] = sample.idempotencyKey;
        const response = await fetch(`${url}${sample.path}`, {
          method: sample.method,
          headers,
          body: hasBody ? (typeof sample.body === 'string' ? sample.body : JSON.stringify(sample.body)) : undefined,
        });
        const text = await response.text();
        tally.set(response.status, (tally.get(response.status) ?? 0) + 1);
        if (response.status === 202 || response.status === 207)
          accepted += response.status === 202 ? 1 : ((JSON.parse(text) as { accepted: number }).accepted ?? 0);
        const unavailableRead =
          readsMayBeUnavailable && response.status === 503 && sample.method === 'GET' && response.headers.get('retry-after') !== null;
        if (response.status >= 500 && !unavailableRead)
          throw new Error(`${response.status} for ${JSON.stringify(sample).slice(0, 300)}: ${text.slice(0, 300)}`);
        if (response.status >= 400)
          expect(response.headers.get('content-type'), `${response.status} ${text.slice(0, 200)}`).toMatch(/^application\/problem\+json/);
      }),
    );
  }
  return { statuses: Object.fromEntries([...tally].sort((a, b) => a[0] - b[0])), accepted };
}
