// Idempotency-Key with Stripe's semantics, for every POST, kept in MongoDB so PostgreSQL is not on the accept
// path.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { withinAcceptDeadline } from '../../db/mongo.js';
import { classifyMongoError, isDuplicateKey } from '../../db/mongo-errors.js';
import { HttpProblem } from '../../http/problem.js';
import type { IdempotencyDoc } from '../accept-collections.js';
import { canonicalHash } from './canonical-hash.js';

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { id: string; owned: boolean };
  }
}

/** 1-255 printable ASCII characters, no space: also what the OpenAPI document declares. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';
const KEY = new RegExp(IDEMPOTENCY_KEY_PATTERN);
/** The headers schema of every POST: each honours the key, so each declares it (checked here, not by zod). */
export const idempotencyHeaders = z.object({ 'idempotency-key': z.string().optional() });
const REPLAYED_HEADERS = ['content-type', 'location'];
/** A first request still in flight after this long was abandoned (its process died): the key may be taken over. */
const ABANDONED_MS = 60_000;

/**
 * The request as the key binds it: method, URL and body as RFC 8785 canonical JSON, so the same JSON with
 * its keys in another order or other whitespace is the same request (written in slices: a batch is large).
 */
const hashOf = (request: FastifyRequest) => canonicalHash([request.method, request.url, request.body ?? null]);

/** How records imported from PostgreSQL were fingerprinted (JSON.stringify, key order mattering). */
const legacyHashOf = (request: FastifyRequest) =>
  `legacy:${createHash('sha256')
    .update(JSON.stringify([request.method, request.url, request.body ?? null]))
    .digest('hex')}`;

type Records = Collection<IdempotencyDoc>;

/**
 * The first response to a key is stored and replayed (with Idempotent-Replayed: true) for the same key and
 * request; the same key with another request is 422, and while the first is still running 409. Keys are per
 * tenant and expire after IDEMPOTENCY_TTL_MS (MongoDB's TTL index removes them; no sweeper). 5xx answers are
 * not kept, so a retry after a failure really retries.
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, options: { records: Records; ttlMs: number }) => {
    const { records, ttlMs } = options;
    app.addHook('preHandler', (request, reply) => claimOrReplay(records, ttlMs, request, reply));
    app.addHook('onSend', (request, reply, payload) => recordAnswer(records, request, reply, payload));
  },
  { name: 'idempotency', dependencies: ['auth'] },
);

/** Takes the key (new, expired, or abandoned) for this request; undefined when someone holds it. */
async function take(records: Records, ttlMs: number, id: string, requestHash: string): Promise<boolean> {
  const now = new Date();
  const fresh = {
    requestHash,
    state: 'in_flight' as const,
    statusCode: null,
    headers: null,
    body: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlMs),
  };
  try {
    await withinAcceptDeadline((bound) => records.insertOne({ _id: id, ...fresh }, bound));
    return true;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  const takenOver = await withinAcceptDeadline((bound) =>
    records.findOneAndUpdate(
      {
        _id: id,
        $or: [{ expiresAt: { $lte: now } }, { state: 'in_flight', createdAt: { $lt: new Date(now.getTime() - ABANDONED_MS) } }],
      },
      { $set: fresh },
      bound,
    ),
  );
  return takenOver !== null;
}

/** Takes the request's key, or answers from the first request's record (replayed, 409 or 422). */
async function claimOrReplay(records: Records, ttlMs: number, request: FastifyRequest, reply: FastifyReply) {
  if (request.method !== 'POST' || !request.tenantId) return;
  const key = request.headers['idempotency-key'];
  if (key === undefined) return;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new HttpProblem(400, 'validation-error', 'Idempotency-Key must be 1-255 printable ASCII characters.', {
      errors: [{ path: 'headers.idempotency-key', message: 'must be 1-255 printable ASCII characters' }],
    });
  }
  const id = JSON.stringify([request.tenantId, key]);
  const requestHash = await hashOf(request);
  let first: IdempotencyDoc | null;
  try {
    if (await take(records, ttlMs, id, requestHash)) {
      request.idempotency = { id, owned: true };
      return;
    }
    first = await withinAcceptDeadline((bound) => records.findOne({ _id: id }, bound));
  } catch (error) {
    throw classifyMongoError(error);
  }
  if (!first)
    throw new HttpProblem(409, 'idempotency-conflict', 'The Idempotency-Key changed hands; retry the request.', {
      headers: { 'Retry-After': '1' },
    });
  const sameRequest = first.requestHash === (first.requestHash.startsWith('legacy:') ? legacyHashOf(request) : requestHash);
  if (!sameRequest) {
    throw new HttpProblem(
      422,
      'idempotency-key-reused',
      'This Idempotency-Key was used with a different request; use a new key for a new request.',
    );
  }
  if (first.state === 'in_flight') {
    throw new HttpProblem(409, 'idempotency-in-flight', 'A request with this Idempotency-Key is still being processed; retry shortly.', {
      headers: { 'Retry-After': '1' },
    });
  }
  request.idempotency = { id, owned: false };
  reply.code(first.statusCode ?? 200).headers({ ...(first.headers ?? {}), 'idempotent-replayed': 'true' });
  return reply.send(first.body);
}

/** Keeps the answer to a request that took its key (5xx answers are dropped, so a retry really retries). */
async function recordAnswer(records: Records, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const idempotency = request.idempotency;
  if (!idempotency?.owned) return payload;
  idempotency.owned = false;
  try {
    if (reply.statusCode >= 500 || typeof payload !== 'string') {
      await withinAcceptDeadline((bound) => records.deleteOne({ _id: idempotency.id, state: 'in_flight' }, bound));
      return payload;
    }
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((name) => (reply.hasHeader(name) ? [[name, String(reply.getHeader(name))]] : [])),
    );
    await withinAcceptDeadline((bound) =>
      records.updateOne(
        { _id: idempotency.id, state: 'in_flight' },
        { $set: { state: 'done', statusCode: reply.statusCode, headers, body: payload } },
        bound,
      ),
    );
  } catch (error) {
    // The answer stands (the work is done); the key stays in flight and is taken over once abandoned.
    request.log.warn({ err: error }, 'could not record the idempotent response; a retry with this key waits until the key is abandoned');
  }
  return payload;
}
