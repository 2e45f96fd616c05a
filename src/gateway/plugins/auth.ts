// Authentication as @fastify/auth strategies. The API-key strategy accepts `Authorization: Bearer <key>`
// or `X-API-Key: <key>`; routes compose strategies with app.auth([...]) in onRequest, so an
// unauthenticated request is refused before its body is even read.
import fastifyAuth from '@fastify/auth';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyVerifier } from '../api-keys.js';
import { HttpProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyInstance {
    verifyApiKey(request: FastifyRequest): Promise<void>;
  }
  interface FastifyRequest {
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

export const authPlugin = fp(
  async (app: FastifyInstance, options: { apiKeys: ApiKeyVerifier }) => {
    app.decorateRequest('tenantId', '');
    app.decorate('verifyApiKey', async (request: FastifyRequest) => {
      const key = presentedKey(request);
      if (!key) throw unauthorized('Send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".');
      const tenantId = options.apiKeys.verify(key);
      if (!tenantId) throw unauthorized('The API key is not valid.');
      request.tenantId = tenantId;
    });
    await app.register(fastifyAuth);
  },
  { name: 'auth', dependencies: ['problem'] },
);
