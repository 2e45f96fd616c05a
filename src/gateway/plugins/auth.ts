// Authentication as @fastify/auth strategies, scopes and the per-key rate limit: a request without a valid key
// (401), over its address's budget for such requests (429), without the scope (403) or over its key's rate
// (429) is refused before its body is read.
import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../../http/problem.js';
import type { ApiKeyVerifier, Principal, Scope } from '../api-keys.js';
import { IMPLIED_SCOPES } from '../scopes.js';
import { clientAddressKey } from './client-address-key.js';

/** Whether the scopes a key holds include `needed`, itself or through another (scopes.ts). */
function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.some((scope) => scope === needed || IMPLIED_SCOPES[scope]?.includes(needed));
}

declare module 'fastify' {
  interface FastifyInstance {
    verifyApiKey(request: FastifyRequest): Promise<void>;
    /** onRequest hooks: any of the strategies, then the scope. */
    authorize(scope: Scope): onRequestAsyncHookHandler[];
  }
  interface FastifyRequest {
    principal: Principal;
    /** Shorthand for principal.tenantId: every query is scoped by it. */
    tenantId: string;
  }
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = request.headers.authorization;
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  return match?.[1];
}

const unauthorized = (detail: string) =>
  new HttpProblem(401, 'unauthorized', detail, { headers: { 'WWW-Authenticate': 'Bearer realm="prismo"' } });

/**
 * The API-key strategy accepts `Authorization: Bearer <key>` or `X-API-Key: <key>`; routes compose strategies
 * with app.auth([...]) in onRequest and then require a scope.
 */
export const authPlugin = fp(
  async (app: FastifyInstance, options: { apiKeys: ApiKeyVerifier; unauthenticatedPerMinute: number }) => {
    const { apiKeys } = options;
    const door = limitAtTheDoor(app, options.unauthenticatedPerMinute);
    app.decorateRequest('tenantId', '');
    app.decorateRequest('principal', null as unknown as Principal);
    app.decorate('verifyApiKey', async (request: FastifyRequest) => {
      const key = presentedKey(request);
      // A key known without a lookup (static, or valid and cached) passes whatever its address did; one that
      // was valid when last looked up is looked up again (many clients may share an address behind a proxy).
      let principal = key ? apiKeys.known?.(key) : undefined;
      if (!principal) {
        if (!key || !apiKeys.recognised?.(key)) door.check(request);
        principal = key ? await apiKeys.verify(key) : undefined;
      }
      if (!principal) {
        throw (
          (await door.failed(request)) ??
          unauthorized(key ? 'The API key is not valid.' : 'Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".')
        );
      }
      request.principal = principal;
      request.tenantId = principal.tenantId;
    });
    await app.register(fastifyAuth);
    // RATE_LIMIT_PER_MINUTE, as the gateway registered @fastify/rate-limit (per key; 429 with Retry-After).
    const perKey = app.rateLimit() as unknown as onRequestAsyncHookHandler;
    app.decorate('authorize', (scope: Scope): onRequestAsyncHookHandler[] => [
      app.auth([app.verifyApiKey]) as onRequestAsyncHookHandler,
      async (request) => {
        if (!grants(request.principal.scopes, scope)) throw new HttpProblem(403, 'forbidden', `This API key lacks the "${scope}" scope.`);
      },
      perKey,
    ]);
  },
  { name: 'auth', dependencies: ['problem', '@fastify/rate-limit'] },
);

/** Addresses over their budget remembered at most (the oldest forgotten first). */
const BLOCKED_ADDRESSES = 10_000;

/**
 * Requests that fail authentication, per client address (UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE), counted in
 * @fastify/rate-limit's store (an LRU of at most 5,000 addresses). Once an address is over, its requests are
 * refused with 429 before any key lookup until its window ends, so a flood of missing or made-up keys costs
 * neither MongoDB nor the key cache; a key known without a lookup, or valid when last looked up, still passes.
 * The address is the client's as TRUST_PROXY lets Fastify read it (request.ip), an IPv6 one counted by its /64.
 */
function limitAtTheDoor(app: FastifyInstance, perMinute: number) {
  const addressOf = (request: FastifyRequest) => clientAddressKey(request.ip);
  const count = app.createRateLimit({ max: perMinute, timeWindow: 60_000, keyGenerator: addressOf, allowList: () => false });
  const blockedUntil = new Map<string, number>();
  const refusal = (seconds: number) =>
    new HttpProblem(
      429,
      'rate-limited',
      `At most ${perMinute} requests per minute per address without a valid API key; retry after ${seconds} s.`,
      { headers: { 'Retry-After': String(seconds) } },
    );
  return {
    /** Throws 429 while the address is over its budget. */
    check(request: FastifyRequest) {
      const address = addressOf(request);
      const until = blockedUntil.get(address);
      if (until === undefined) return;
      if (until > Date.now()) throw refusal(Math.ceil((until - Date.now()) / 1000));
      blockedUntil.delete(address);
    },
    /** Counts a failed authentication; the 429 to answer instead of the 401 once the address is over. */
    async failed(request: FastifyRequest): Promise<HttpProblem | undefined> {
      const outcome = await count(request);
      if (outcome.isAllowed || !outcome.isExceeded) return undefined;
      if (blockedUntil.size >= BLOCKED_ADDRESSES) blockedUntil.delete(blockedUntil.keys().next().value as string);
      blockedUntil.set(addressOf(request), Date.now() + outcome.ttl);
      return refusal(outcome.ttlInSeconds);
    },
  };
}

/**
 * The tenant an admin request acts on: the key's own; for an operator key the one it asks for, or every
 * tenant (null). Asking for another tenant without the operator scope is refused.
 */
export function tenantScopeOf(principal: Principal, requested?: string): string | null {
  if (grants(principal.scopes, 'operator')) return requested ?? null;
  if (requested !== undefined && requested !== principal.tenantId) {
    throw new HttpProblem(403, 'forbidden', 'Only an API key with the "operator" scope acts on another tenant.');
  }
  return principal.tenantId;
}
