// The gateway against a recording stub at the ingest port: the stub shows exactly what would have been
// stored. (MongoDB, which holds the idempotency records, and PostgreSQL, which the reads use, are real.)
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/config.js';
import { createLogger } from '../../src/config/logger.js';
import type { Envelope } from '../../src/domain/envelope.js';
import { TransientError } from '../../src/domain/errors.js';
import { acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createStaticVerifier } from '../../src/gateway/api-keys.js';
import { buildGateway, type GatewayOptions } from '../../src/gateway/build-gateway.js';
import type { Ingest } from '../../src/gateway/ingest-port.js';
import { createTestMongo, createTestPostgres, type TestMongo, type TestPostgres } from '../support/databases.js';

const KEY = 'test-key-acme-0123456789';

function recordingIngest() {
  const accepted: Array<{ tenantId: string; envelope: Envelope }> = [];
  let failNext: Error | undefined;
  const ingest: Ingest = {
    async accept(tenantId, envelope) {
      if (failNext) {
        const error = failNext;
        failNext = undefined;
        throw error;
      }
      accepted.push({ tenantId, envelope });
      return { id: (accepted.length - 1).toString(16).padStart(24, '0'), duplicate: false };
    },
    async acceptMany(tenantId, envelopes) {
      return Promise.all(envelopes.map((envelope) => this.accept(tenantId, envelope)));
    },
    async status() {
      return undefined;
    },
    async replay() {
      return { matched: 0, replayed: 0, dryRun: true };
    },
    async acceptStatement() {
      return { id: 'f'.repeat(24), duplicate: false };
    },
    async statementStatus() {
      return undefined;
    },
  };
  return { ingest, accepted, failWith: (error: Error) => (failNext = error) };
}

/** The gateway on fresh test databases with the product's settings (`http` on top of them) and `options`. */
async function testGateway(
  options: Pick<GatewayOptions, 'ingest' | 'apiKeys'> & Partial<GatewayOptions>,
  http: Partial<GatewayOptions['http']> = {},
): Promise<{ app: FastifyInstance; pg: TestPostgres; mongo: TestMongo }> {
  const pg = await createTestPostgres();
  const mongo = await createTestMongo();
  const accept = acceptCollections(mongo.db);
  await ensureAcceptIndexes(accept);
  const settings = loadSettings({});
  const app = await buildGateway({
    db: pg.db,
    idempotencyRecords: accept.idempotency,
    tenantUsage: accept.usage,
    admin: { mongo, retention: { processedSeconds: 60, logsSeconds: 60 } },
    logger: createLogger('silent'),
    http: { ...settings.http, ...http },
    gateway: settings.gateway,
    ...options,
  });
  return { app, pg, mongo };
}

describe('POST /api/v1/transactions', () => {
  let app: FastifyInstance;
  let pg: TestPostgres;
  let mongo: TestMongo;
  const stub = recordingIngest();
  const post = (body: unknown, headers: Record<string, string> = { 'x-api-key': KEY }) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/transactions',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    ({ app, pg, mongo } = await testGateway(
      { ingest: stub.ingest, apiKeys: createStaticVerifier([{ tenantId: 'acme', key: KEY }]) },
      // The product's defaults, with a small body limit to reach.
      { bodyLimitBytes: 4096 },
    ));
  });
  afterAll(async () => {
    await app.close();
    await pg.drop();
    await mongo.drop();
  });
  beforeEach(() => {
    stub.accepted.length = 0;
  });

  const envelope = { source: 'generic', externalId: 'ext-1', payload: { amount: '12.34', currency: 'EUR' } };

  it('accepts an envelope with 202, a Location header and a status URL, and hands it to ingestion', async () => {
    const response = await post(envelope);
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toEqual({ id: '000000000000000000000000', status: 'pending', statusUrl: '/api/v1/transactions/000000000000000000000000' });
    expect(response.headers.location).toBe(body.statusUrl);
    expect(stub.accepted).toEqual([{ tenantId: 'acme', envelope }]);
  });

  it('takes the key as a Bearer token too', async () => {
    const response = await post(envelope, { authorization: `Bearer ${KEY}` });
    expect(response.statusCode).toBe(202);
    expect(stub.accepted).toHaveLength(1);
  });

  it.each([
    ['no key', {}],
    ['an unknown key', { 'x-api-key': 'not-a-key-at-all-000' }],
    ['a malformed Authorization header', { authorization: `Basic ${KEY}` }],
  ])('refuses %s with 401 problem+json and stores nothing', async (_, headers) => {
    const response = await post(envelope, headers);
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['www-authenticate']).toContain('Bearer');
    expect(response.json()).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/api/v1/transactions' });
    expect(stub.accepted).toHaveLength(0);
  });

  it('refuses an unauthenticated request before reading its body', async () => {
    const response = await post('{not json', {});
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['source is missing', { payload: {} }, 'source'],
    ['payload is missing', { source: 'generic' }, 'payload'],
    ['payload is not an object', { source: 'generic', payload: [1, 2] }, 'payload'],
    ['source has a bad shape', { source: 'Generic Source!', payload: {} }, 'source'],
    ['an unknown envelope field is sent', { source: 'generic', payload: {}, extrnalId: 'typo' }, 'extrnalId'],
    ['a payload key starts with $', { source: 'generic', payload: { nested: { $where: 'sleep(1)' } } }, 'payload.nested.$where'],
  ])('answers 400 naming the field when %s', async (_, body, field) => {
    const response = await post(body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(problem).toMatchObject({ type: '/problems/validation-error', status: 400 });
    expect(problem.detail).toContain(field);
    expect(problem.errors.some((e: { path: string }) => e.path.includes(field.split('.')[0]!))).toBe(true);
    expect(stub.accepted).toHaveLength(0);
  });

  it('refuses a misspelt source at the door with 400 naming source and the accepted values, storing nothing', async () => {
    const response = await post({ ...envelope, source: 'stirpe' });
    expect(response.statusCode).toBe(400);
    const problem = response.json();
    expect(problem.errors).toEqual([
      { path: 'body.source', message: 'unknown source "stirpe": must be one of generic, stripe, plaid, iso20022' },
    ]);
    const batch = await app.inject({
      method: 'POST',
      url: '/api/v1/transactions/batch',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      payload: { items: [envelope, { ...envelope, externalId: 'ext-2', source: 'paypal' }] },
    });
    expect(batch.statusCode).toBe(207);
    const { results } = batch.json();
    expect(results[0].status).toBe(202);
    expect(results[1]).toMatchObject({ status: 400, problem: { errors: [{ path: 'items.1.source' }] } });
    expect(results[1].problem.errors[0].message).toContain('must be one of generic, stripe, plaid, iso20022');
    expect(stub.accepted.map((a) => a.envelope.source)).toEqual(['generic']);
  });

  it('names an unknown field by its path alone (body.extrnalId), at the root and nested', async () => {
    const root = await post({ ...envelope, extrnalId: 'typo' });
    expect(root.json().errors).toEqual([{ path: 'body.extrnalId', message: 'is not a known field' }]);
    const batch = await app.inject({
      method: 'POST',
      url: '/api/v1/transactions/batch',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      payload: { items: [envelope], extra: 1 },
    });
    expect(batch.json().errors).toEqual([{ path: 'body.extra', message: 'is not a known field' }]);
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await post('{"source": "generic", "payload": {');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stub.accepted).toHaveLength(0);
  });

  it('answers 400 for prototype-poisoning keys', async () => {
    const response = await post('{"source": "generic", "payload": {"__proto__": {"admin": true}}}');
    expect(response.statusCode).toBe(400);
    expect(stub.accepted).toHaveLength(0);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const response = await post('source=generic', { 'x-api-key': KEY, 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.statusCode).toBe(415);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stub.accepted).toHaveLength(0);
  });

  it('answers 413 for a body over the limit', async () => {
    const response = await post({ source: 'generic', payload: { blob: 'x'.repeat(5000) } });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stub.accepted).toHaveLength(0);
  });

  it('answers 503 with Retry-After, not a 500, when ingestion is unavailable', async () => {
    stub.failWith(new TransientError('mongo_unavailable', 'MongoDB is unavailable: connection refused to 10.0.0.5'));
    const response = await post(envelope);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).not.toContain('10.0.0.5');
  });

  it('answers 500 with a request id and no internals for an unexpected failure', async () => {
    stub.failWith(new Error('secret internal detail'));
    const response = await post(envelope, { 'x-api-key': KEY, 'x-request-id': 'req-42' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({ status: 500, requestId: 'req-42' });
    expect(response.body).not.toContain('secret internal detail');
  });

  it('answers unknown routes with 404 problem+json', async () => {
    const response = await app.inject({ method: 'GET', url: '/nope' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('POST /api/v1/webhook-endpoints when the URL is looked up', () => {
  let app: FastifyInstance;
  let pg: TestPostgres;
  let mongo: TestMongo;
  const ADMIN = 'test-key-admin-0123456789';
  /** What the lookup answers next: the test's resolver, so that no DNS query is ever made. */
  let answer: () => Promise<Array<{ address: string; family: number }>> = async () => [];

  beforeAll(async () => {
    ({ app, pg, mongo } = await testGateway({
      ingest: recordingIngest().ingest,
      apiKeys: createStaticVerifier([{ tenantId: 'acme', key: ADMIN, scopes: ['admin'] }]),
      webhooks: { allowPrivateUrls: false, resolve: () => answer() },
    }));
  });
  afterAll(async () => {
    await app.close();
    await pg.drop();
    await mongo.drop();
  });
  const create = () =>
    app.inject({
      method: 'POST',
      url: '/api/v1/webhook-endpoints',
      headers: { 'content-type': 'application/json', 'x-api-key': ADMIN },
      payload: { url: 'https://hooks.example.com/prismo', events: ['transaction.processed'] },
    });
  const failing = (code: string) => async () => {
    throw Object.assign(new Error(`getaddrinfo ${code} hooks.example.com`), { code });
  };

  it('a name that does not exist is the client’s 422; a resolver that cannot answer now is a 503 with Retry-After', async () => {
    answer = failing('ENOTFOUND');
    const missing = await create();
    expect(missing.statusCode).toBe(422);
    expect(missing.json().detail).toBe('hooks.example.com does not resolve');
    answer = failing('EAI_AGAIN');
    const away = await create();
    expect(away.statusCode).toBe(503);
    expect(away.headers['retry-after']).toBe('5');
    expect(away.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(away.json().detail).toBe('Cannot look up hooks.example.com now (EAI_AGAIN); retry.');
    answer = async () => [{ address: '10.1.2.3', family: 4 }];
    expect((await create()).statusCode).toBe(422);
    expect(await pg.db.one('SELECT count(*)::int AS n FROM webhook_endpoints', [], (r) => r.n)).toBe(0);
  });
});
