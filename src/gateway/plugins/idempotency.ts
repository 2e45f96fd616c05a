// Idempotency-Key with Stripe's semantics, for every POST: the first response to a key is stored and
// replayed (with Idempotent-Replayed: true) for the same key and request; the same key with another
// request is 422, and while the first is still running 409. Keys are per tenant and expire after
// IDEMPOTENCY_TTL_MS. 5xx answers are not kept, so a retry after a failure really retries.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../../db/postgres.js';
import { HttpProblem } from '../../http/problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { key: string; owned: boolean };
  }
}

const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'location'];

/** The request as the key binds it: method, route and body (parsed, so formatting does not matter). */
const hashOf = (request: FastifyRequest) =>
  createHash('sha256')
    .update(JSON.stringify([request.method, request.url, request.body ?? null]))
    .digest('hex');

export const idempotencyPlugin = fp(
  async (app: FastifyInstance, options: { db: Database; ttlMs: number }) => {
    const { db, ttlMs } = options;

    app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
      if (request.method !== 'POST' || !request.tenantId) return;
      const key = request.headers['idempotency-key'];
      if (key === undefined) return;
      if (typeof key !== 'string' || !KEY.test(key)) {
        throw new HttpProblem(400, 'validation-error', 'Idempotency-Key must be 1-255 printable ASCII characters.', {
          errors: [{ path: 'headers.idempotency-key', message: 'must be 1-255 printable ASCII characters' }],
        });
      }
      const requestHash = hashOf(request);
      // Take the key, or take it over once it has expired; otherwise someone had it first.
      const taken = await db.oneOrNone(
        `INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, expires_at)
         VALUES ($1, $2, $3, 'in_flight', now() + $4 * interval '1 millisecond')
         ON CONFLICT (tenant_id, key) DO UPDATE
           SET request_hash = EXCLUDED.request_hash, state = 'in_flight', status_code = NULL, headers = NULL, body = NULL,
               created_at = now(), expires_at = EXCLUDED.expires_at
           -- An expired key, or one whose first request was abandoned (its process died mid-request).
           WHERE idempotency_keys.expires_at <= now()
              OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.created_at < now() - interval '60 seconds')
         RETURNING 1`,
        [request.tenantId, key, requestHash, ttlMs],
      );
      if (taken) {
        request.idempotency = { key, owned: true };
        return;
      }
      const first = await db.oneOrNone<{
        request_hash: string;
        state: string;
        status_code: number | null;
        headers: Record<string, string> | null;
        body: string | null;
      }>('SELECT request_hash, state, status_code, headers, body FROM idempotency_keys WHERE tenant_id = $1 AND key = $2', [
        request.tenantId,
        key,
      ]);
      if (!first) throw new HttpProblem(409, 'idempotency-conflict', 'The Idempotency-Key changed hands; retry the request.');
      if (first.request_hash !== requestHash) {
        throw new HttpProblem(
          422,
          'idempotency-key-reused',
          'This Idempotency-Key was used with a different request; use a new key for a new request.',
        );
      }
      if (first.state === 'in_flight') {
        throw new HttpProblem(
          409,
          'idempotency-in-flight',
          'A request with this Idempotency-Key is still being processed; retry shortly.',
          { headers: { 'Retry-After': '1' } },
        );
      }
      request.idempotency = { key, owned: false };
      reply.code(first.status_code ?? 200).headers({ ...(first.headers ?? {}), 'idempotent-replayed': 'true' });
      return reply.send(first.body);
    });

    app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      const idempotency = request.idempotency;
      if (!idempotency?.owned) return payload;
      idempotency.owned = false;
      if (reply.statusCode >= 500 || typeof payload !== 'string') {
        await db.none('DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2', [request.tenantId, idempotency.key]);
        return payload;
      }
      const headers = Object.fromEntries(
        REPLAYED_HEADERS.flatMap((name) => (reply.hasHeader(name) ? [[name, String(reply.getHeader(name))]] : [])),
      );
      await db.none(
        "UPDATE idempotency_keys SET state = 'done', status_code = $3, headers = $4, body = $5 WHERE tenant_id = $1 AND key = $2",
        [request.tenantId, idempotency.key, reply.statusCode, headers, payload],
      );
      return payload;
    });
  },
  { name: 'idempotency', dependencies: ['auth'] },
);
