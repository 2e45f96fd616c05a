// Authentication as @fastify/auth strategies, and scopes: a request without a valid key (401) or the scope
// (403) is refused before its body is read.
import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../../http/problem.js';
import type { ApiKeyVerifier, Principal, Scope } from '../api-keys.js';
import { grants } from '../scopes.js';

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
  async (app: FastifyInstance, options: { apiKeys: ApiKeyVerifier }) => {
    app.decorateRequest('tenantId', '');
    app.decorateRequest('principal', null as unknown as Principal);
    app.decorate('verifyApiKey', async (request: FastifyRequest) => {
      const key = presentedKey(request);
      if (!key) throw unauthorized('Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
      const principal = await options.apiKeys.verify(key);
      if (!principal) throw unauthorized('The API key is not valid.');
      request.principal = principal;
      request.tenantId = principal.tenantId;
    });
    await app.register(fastifyAuth);
    app.decorate('authorize', (scope: Scope): onRequestAsyncHookHandler[] => [
      app.auth([app.verifyApiKey]) as onRequestAsyncHookHandler,
      async (request) => {
        if (!grants(request.principal.scopes, scope)) throw new HttpProblem(403, 'forbidden', `This API key lacks the "${scope}" scope.`);
      },
    ]);
  },
  { name: 'auth', dependencies: ['problem'] },
);

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
