// The ingestion service stores documents in any tenant's name it is told, so only the gateway may call it:
// every request but the health checks carries INGEST_TOKEN, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpProblem } from '../http/problem.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Paths anyone who reaches the port may ask: they answer whether the process is up, nothing else. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

/** An onRequest hook: 401 unless `Authorization: Bearer <token>` holds the token (equal-length digests compared). */
export function requireInternalToken(token: string) {
  const expected = digest(token);
  return async (request: FastifyRequest) => {
    if (OPEN_PATHS.has(request.url.split('?')[0] ?? '')) return;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    if (match?.[1] && timingSafeEqual(digest(match[1]), expected)) return;
    throw new HttpProblem(401, 'unauthorized', 'The ingestion service answers the gateway only: send INGEST_TOKEN as a Bearer token.', {
      headers: { 'WWW-Authenticate': 'Bearer realm="prismo-ingest"' },
    });
  };
}
