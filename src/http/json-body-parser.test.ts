import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { createHttpApp } from './create-http-app.js';
import { type InflightBodies, type JsonParsing, parseJsonInSlices, SLICED_FROM_BYTES, useJsonBodies } from './json-body-parser.js';

const SETTINGS: JsonParsing = {
  maxValues: 100_000,
  maxEnvelopeValues: 10_000,
  concurrency: 2,
  queueMax: 8,
  perTenant: 4,
  slicedQueueMax: 64,
  slicedPerTenant: 16,
};
const LIMITS = { maxValues: 100_000, maxEnvelopeValues: 100_000, envelopes: { depth: 1, path: () => 'body' } };

/** An echo of the parsed body, on an app whose poisoning rules are `poisoning` ('error' as every service but the gateway). */
async function echoApp(poisoning: 'error' | 'ignore' = 'error') {
  const app = await createHttpApp({
    logger: createLogger('silent'),
    component: 'test',
    bodyLimit: 32 * 1024 * 1024,
    onProtoPoisoning: poisoning,
    onConstructorPoisoning: poisoning,
  });
  useJsonBodies(app, SETTINGS, { envelopesAt: { '/batch': { depth: 3, path: (i) => `items.${i}` } }, placesFromBytes: 1024 * 1024 });
  app.post('/echo', async (request) => ({ body: request.body, own: Object.keys((request.body ?? {}) as object) }));
  app.post('/batch', async (request) => ({ items: (request.body as { items: unknown[] }).items }));
  return app;
}

const post = (app: Awaited<ReturnType<typeof echoApp>>, url: string, payload: string) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });

/** Pads a JSON object to past the sliced threshold with one long string. */
const large = (json: string) => `{"pad":"${'p'.repeat(SLICED_FROM_BYTES)}",${json.slice(1)}`;

/**
 * An app whose tenant is the x-tenant header and whose POST /hold waits at a gate: `send(tenant)` posts `body`,
 * `entered(n)` waits until n requests are held in the handler, `release(held, n)` opens the gate and expects
 * the n held ones answered 200.
 */
async function gatedApp(
  parsing: JsonParsing,
  { bodyLimit, inflight, body }: { bodyLimit: number; inflight?: InflightBodies; body: string },
) {
  const app = await createHttpApp({ logger: createLogger('silent'), component: 'test', bodyLimit });
  app.addHook('onRequest', async (request) => {
    (request as { tenantId?: string }).tenantId = request.headers['x-tenant'] as string;
  });
  useJsonBodies(app, parsing, { placesFromBytes: bodyLimit, inflight });
  let inside = 0;
  let open = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  app.post('/hold', async () => {
    inside++;
    await gate;
    return { ok: true };
  });
  return {
    app,
    send: (tenant: string) =>
      app.inject({ method: 'POST', url: '/hold', headers: { 'content-type': 'application/json', 'x-tenant': tenant }, payload: body }),
    async entered(count: number) {
      for (let turns = 0; inside < count && turns < 1_000; turns++) await new Promise((resolve) => setImmediate(resolve));
      expect(inside).toBe(count);
    },
    async release(held: Array<Promise<{ statusCode: number }>>, count: number) {
      open();
      expect((await Promise.all(held)).map((response) => response.statusCode)).toEqual(Array(count).fill(200));
    },
  };
}

/** Holds every request before its body is read until `count` have arrived: they reach the parser together. */
function barrierBeforeParsing(app: Awaited<ReturnType<typeof createHttpApp>>, count: number): void {
  let release = () => {};
  const arrived = new Promise<void>((resolve) => (release = resolve));
  let waiting = 0;
  app.addHook('preParsing', async () => {
    if (++waiting === count) release();
    await arrived;
  });
}

/** A refusal: its status, Retry-After: 1, its problem type and (when given) the setting its detail names. */
async function expectRefused(
  answer: Promise<{ statusCode: number; headers: Record<string, unknown>; json(): { type: string; detail: string } }>,
  status: number,
  type: string,
  detail?: RegExp,
) {
  const response = await answer;
  expect(response.statusCode).toBe(status);
  expect(response.headers['retry-after']).toBe('1');
  expect(response.json().type).toBe(`/problems/${type}`);
  if (detail) expect(response.json().detail).toMatch(detail);
}

describe('JSON bodies read in slices', () => {
  it('gives what JSON.parse gives, for bodies of every shape, cut anywhere', async () => {
    const bodies = [
      '{"a":1,"b":[true,false,null,-1.5e3,"é😀\\u00e9\\n"],"c":{"d":{}},"a":2}',
      '[[],[[]],{},0]',
      '"\\ud800"',
      `{"long":"${'x'.repeat(100_000)}","n":12345678901234567890}`,
      // Characters of two to four bytes across the slices' 16 KiB boundaries, in strings and keys.
      `{"${'é'.repeat(9_000)}":"${'😀a€'.repeat(20_000)}","k":[${'"\u00e9😀",'.repeat(5_000)}1.5]}`,
    ];
    for (const text of bodies) {
      const { value } = await parseJsonInSlices(Buffer.from(text), LIMITS);
      expect(value).toEqual(JSON.parse(text));
    }
  });

  it("refuses what JSON.parse refuses, with Fastify's own 400", async () => {
    const app = await echoApp();
    for (const bad of ['{"a":1}x', '{"a":1}{}', '[1,]', '{"a":01}', '"\u0001"', '{"a":', 'nul']) {
      const response = await post(app, '/echo', large(bad.startsWith('{') ? bad : `{"v":${bad}}`));
      expect(response.statusCode, bad).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json().detail).toMatch(/not valid JSON/);
    }
    await app.close();
  });

  it('keeps the poisoning rules: an error where the service asks for one, an own key (never a prototype) where it ignores them', async () => {
    const strict = await echoApp('error');
    expect((await post(strict, '/echo', large('{"__proto__":{"x":1}}'))).statusCode).toBe(400);
    expect((await post(strict, '/echo', large('{"constructor":{"prototype":{"x":1}}}'))).statusCode).toBe(400);
    expect((await post(strict, '/echo', large('{"constructor":{"name":"ok"}}'))).statusCode).toBe(200);
    await strict.close();
    const lenient = await echoApp('ignore');
    const response = await post(lenient, '/echo', large('{"__proto__":{"x":1}}'));
    expect(response.statusCode).toBe(200);
    expect(response.json().own).toContain('__proto__');
    expect(({} as { x?: number }).x).toBeUndefined();
    await lenient.close();
  });

  it('refuses a body nested past 128, past JSON_MAX_VALUES, or an envelope past JSON_MAX_ENVELOPE_VALUES, naming it', async () => {
    const app = await echoApp();
    const deep = await post(app, '/echo', large(`{"d":${'['.repeat(129)}${']'.repeat(129)}}`));
    expect(deep.statusCode).toBe(400);
    expect(deep.json().detail).toMatch(/nests deeper than 128 levels/);
    const many = await post(app, '/batch', `{"items":[${Array.from({ length: 12 }, () => `[${'0,'.repeat(8_999)}0]`).join(',')}]}`);
    expect(many.statusCode).toBe(413);
    expect(many.json().detail).toMatch(/more than 100000 keys and values \(JSON_MAX_VALUES/);
    // An item past its count is left unbuilt, a marker in its place, for the route to refuse alone.
    const item = await post(
      app,
      '/batch',
      `{"items":[{"a":1},{"z":[${'0,'.repeat(200_000)}0]},[2]],"pad":"${'p'.repeat(SLICED_FROM_BYTES)}"}`,
    );
    expect(item.statusCode).toBe(200);
    expect(item.json().items).toEqual([{ a: 1 }, { path: 'items.1', limit: 10_000 }, [2]]);
    // A body that is one envelope (a single POST) is refused whole.
    const single = await post(app, '/echo', `{"z":[${'0,'.repeat(10_000)}0],"pad":"${'p'.repeat(SLICED_FROM_BYTES)}"}`);
    expect(single.statusCode).toBe(413);
    expect(single.json().detail).toMatch(/^body holds more than 10000 keys and values \(JSON_MAX_ENVELOPE_VALUES\)/);
    // Just inside: read.
    const inside = await post(app, '/batch', `{"items":[{"z":[${'0,'.repeat(9_996)}0]}],"pad":"${'p'.repeat(SLICED_FROM_BYTES)}"}`);
    expect(inside.statusCode).toBe(200);
    await app.close();
  });

  it('leaves a small body to JSON.parse: the same answers, limits or not', async () => {
    const app = await echoApp();
    const small = `{"z":[${'0,'.repeat(20_000)}0]}`;
    expect(small.length).toBeLessThan(SLICED_FROM_BYTES);
    expect((await post(app, '/echo', small)).statusCode).toBe(200);
    expect((await post(app, '/echo', '')).statusCode).toBe(400);
    expect((await post(app, '/echo', '{"a":')).statusCode).toBe(400);
    await app.close();
  });

  it('holds a tenant to its bytes in flight (429) and the service to its own (503), before reading, until answered', async () => {
    const gated = await gatedApp(SETTINGS, {
      bodyLimit: 4096,
      inflight: { perTenantBytes: 3_000, totalBytes: 5_000, perTenantSmallBytes: 1_000_000 },
      body: JSON.stringify({ pad: 'p'.repeat(1_380) }),
    });
    const held = [gated.send('a'), gated.send('a'), gated.send('b')];
    await gated.entered(3);
    await expectRefused(gated.send('a'), 429, 'inflight-bytes-quota', /TENANT_MAX_INFLIGHT_BODY_BYTES/);
    await expectRefused(gated.send('c'), 503, 'inflight-bytes-busy');
    await gated.entered(3);
    await gated.release(held, 3);
    // Answered: the bytes are given back.
    expect((await gated.send('a')).statusCode).toBe(200);
    await gated.app.close();
  });

  it('holds a tenant to its bytes of bodies parsed at once in flight (429), until answered; another tenant is not held', async () => {
    const gated = await gatedApp(SETTINGS, {
      bodyLimit: 4096,
      inflight: { perTenantBytes: 1_000_000, totalBytes: 1_000_000, perTenantSmallBytes: 3 * 7 },
      body: '{"a":1}',
    });
    const held = [gated.send('a'), gated.send('a'), gated.send('a')];
    await gated.entered(3);
    await expectRefused(gated.send('a'), 429, 'inflight-small-bodies-quota', /TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES/);
    held.push(gated.send('b'));
    await gated.entered(4);
    await gated.release(held, 4);
    expect((await gated.send('a')).statusCode).toBe(200);
    await gated.app.close();
  });

  it('holds a tenant to its share of the bodies parsed in slices (429) before reading, so another tenant still finds a place', async () => {
    const gated = await gatedApp(
      { ...SETTINGS, slicedQueueMax: 2, concurrency: 1, slicedPerTenant: 2 },
      { bodyLimit: 1024 * 1024, body: large('{"a":1}') },
    );
    const held = [gated.send('a'), gated.send('a')];
    await gated.entered(2);
    await expectRefused(gated.send('a'), 429, 'sliced-bodies-quota', /JSON_SLICED_PER_TENANT/);
    // Places in all: 2 waiting + 1 parsing; b takes the third.
    held.push(gated.send('b'));
    await gated.entered(3);
    await expectRefused(gated.send('c'), 503, 'json-parsing-busy');
    await gated.release(held, 3);
    expect((await gated.send('a')).statusCode).toBe(200);
    await gated.app.close();
  });

  it("parses the waiting bodies tenant by tenant in turn: another tenant's body waits for one of a tenant's queue, not all", async () => {
    const app = await createHttpApp({ logger: createLogger('silent'), component: 'test', bodyLimit: 8 * 1024 * 1024 });
    app.addHook('onRequest', async (request) => {
      (request as { tenantId?: string }).tenantId = request.headers['x-tenant'] as string;
    });
    useJsonBodies(app, { ...SETTINGS, maxEnvelopeValues: 100_000, concurrency: 1 }, { placesFromBytes: 8 * 1024 * 1024 });
    // All five bodies reach the parser together; each takes several slices.
    barrierBeforeParsing(app, 5);
    const handled: string[] = [];
    app.post('/echo', async (request) => {
      handled.push(request.headers['x-tenant'] as string);
      return { ok: true };
    });
    // 90,000 values: about 50 ms each here, several 8 ms slices even on a machine three times as fast.
    const body = JSON.stringify({ pad: Array.from({ length: 90_000 }, () => 1) });
    const send = (tenant: string) =>
      app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json', 'x-tenant': tenant }, payload: body });
    const answers = await Promise.all(['a', 'a', 'a', 'a', 'b'].map(send));
    expect(answers.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200]);
    // First come, first served would be a a a a b.
    expect(handled.indexOf('b')).toBeLessThanOrEqual(2);
    await app.close();
  });

  it('bounds the bodies waiting for a parse in slices, however small (503 with Retry-After)', async () => {
    // Under the places' threshold, and long enough to parse over several slices.
    const app = await createHttpApp({ logger: createLogger('silent'), component: 'test', bodyLimit: 8 * 1024 * 1024 });
    useJsonBodies(
      app,
      { ...SETTINGS, maxEnvelopeValues: 100_000, concurrency: 1, slicedQueueMax: 2 },
      { placesFromBytes: 8 * 1024 * 1024 },
    );
    // All eight bodies reach the parser together, and each takes several slices to parse (90,000 small values:
    // ~50 ms, where 4 MB of long strings could parse within one slice and free the place before the next arrived).
    barrierBeforeParsing(app, 8);
    app.post('/echo', async () => ({ ok: true }));
    const body = JSON.stringify({ pad: Array.from({ length: 90_000 }, () => 1) });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: body }),
      ),
    );
    const refused = answers.filter((response) => response.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    expect(refused[0]?.json().detail).toMatch(/JSON_SLICED_QUEUE/);
    expect(answers.filter((response) => response.statusCode === 200).length).toBeGreaterThanOrEqual(3);
    await app.close();
  });
});
