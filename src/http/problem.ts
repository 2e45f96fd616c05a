// Every error leaves as RFC 9457 application/problem+json, mapped here and nowhere else. Handlers throw
// HttpProblem (or a classified adapter error); nothing internal reaches the client.
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ZodError } from 'zod';
import { isDocumentTooLarge, isTransient } from '../domain/errors.js';

export interface FieldError {
  path: string;
  message: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId?: string;
  errors?: FieldError[];
}

/**
 * The types of the problems sent without a slug of their own (Fastify's client errors, no such route, a
 * bug), named here rather than from Node's reason phrases, which change between versions (413 is "Payload
 * Too Large" in Node 20). docs/api.md lists each (test/docs/problem-types.test.ts).
 */
export const GENERIC_PROBLEM_TYPES: Readonly<Record<number, string>> = {
  400: 'bad-request',
  404: 'not-found',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  500: 'internal-server-error',
};

const slugOf = (status: number) =>
  GENERIC_PROBLEM_TYPES[status] ?? (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** JSON pointer (`/payload/amount`) or zod path to the dotted form clients read (`payload.amount`). */
const dotted = (pointer: string) => pointer.split('/').filter(Boolean).join('.');

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: Omit<Problem, 'instance' | 'type' | 'title'> & { slug?: string },
) {
  const { slug = slugOf(problem.status), ...rest } = problem;
  const body: Problem = {
    type: `/problems/${slug}`,
    title: STATUS_CODES[problem.status] ?? 'Error',
    instance: request.url.split('?')[0] ?? request.url,
    ...rest,
  };
  if (hasUnreadBody(request)) closeAfterUnreadBody(request, reply);
  return reply.code(problem.status).type('application/problem+json').send(body);
}

/** How long a refused request's body is still taken in (and dropped unread) before its connection is cut. */
const LINGER_MS = 1_000;

/** A body was announced and not (yet) all received. A request without one is complete only once its handler has begun. */
const hasUnreadBody = (request: FastifyRequest) =>
  !request.raw.complete && (request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0);

/**
 * Refused before its body was read (a 401, 404, 413 or 429 at the door): the answer is sent, then the
 * connection is closed, so the body is never read into memory and no one keeps a socket busy with it.
 * Closing at once would make most clients (still sending) lose the answer to a reset, so for a moment what
 * still arrives is discarded unread (Node dumps an unread request) and the client can read its answer first.
 */
function closeAfterUnreadBody(request: FastifyRequest, reply: FastifyReply) {
  const socket = request.raw.socket;
  // Fastify asks for `Connection: close` on a 413, which makes Node destroy the socket the moment the answer
  // is written: the lingering close below ends it instead.
  reply.removeHeader('connection');
  reply.raw.once('finish', () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}

/** One line naming every offending path: what a validation problem's `detail` says. */
export const detailOf = (errors: FieldError[]) => errors.map((e) => `${e.path}: ${e.message}`).join('; ');

export type ValidationProblem = { type: string; title: string; status: number; detail: string; errors: FieldError[] };

/** The body of a 400 found outside Fastify's validation (e.g. one item of a batch). */
export function validationProblem(errors: FieldError[]): ValidationProblem {
  return { type: '/problems/validation-error', title: 'Bad Request', status: 400, detail: detailOf(errors), errors };
}

/** The problem body for a zod error found outside Fastify's validation (e.g. one item of a batch). */
export function problemOfZodError(error: ZodError, at: string): ValidationProblem {
  return validationProblem(
    error.issues.flatMap((issue) => {
      const base = [at, ...issue.path.map(String)].filter(Boolean).join('.');
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: `${base}.${key}`, message: 'is not a known field' }));
      return [{ path: base, message: issue.message }];
    }),
  );
}

function toProblem(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof HttpProblem) {
    if (error.extra.headers) reply.headers(error.extra.headers);
    return sendProblem(request, reply, { status: error.status, slug: error.slug, detail: error.detail, errors: error.extra.errors });
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.flatMap((issue) => {
      const at = (pointer: string) => [error.validationContext, dotted(pointer)].filter(Boolean).join('.');
      // An unknown field is reported against its parent; name the field itself, one error each.
      const keys = issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: string[] }).keys : undefined;
      if (keys?.length) return keys.map((key) => ({ path: at(`${issue.instancePath}/${key}`), message: 'is not a known field' }));
      return [{ path: at(issue.instancePath), message: issue.message ?? 'is invalid' }];
    });
    return sendProblem(request, reply, { status: 400, slug: 'validation-error', detail: detailOf(errors), errors });
  }
  // A document MongoDB cannot hold, however it was found out: the client's to shrink, never a retry.
  if (isDocumentTooLarge(error)) return sendProblem(request, reply, { status: 413, slug: 'document-too-large', detail: error.message });
  if (isTransient(error)) {
    request.log.warn({ err: error, code: error.code }, 'dependency unavailable');
    reply.header('Retry-After', '1');
    return sendProblem(request, reply, {
      status: 503,
      slug: 'unavailable',
      detail: 'A dependency is unavailable; retry shortly.',
      requestId: request.id,
    });
  }
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, media type): their messages are generic.
    return sendProblem(request, reply, { status, detail: error.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(request, reply, { status: 500, detail: `Internal error; quote request id ${request.id}.`, requestId: request.id });
}

export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(toProblem);
    const notFound = (request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(request, reply, { status: 404, detail: `No route for ${request.method} ${request.url.split('?')[0]}` });
    // Answered in onRequest: Fastify's 404 route would otherwise read and parse the body first (up to the
    // server's largest limit) only to say there is no such route. Fastify runs every lifecycle hook given here
    // (lib/four-oh-four.js); its types name only preValidation and preHandler.
    const earlyNotFound = { onRequest: async (request: FastifyRequest, reply: FastifyReply) => notFound(request, reply) };
    app.setNotFoundHandler(earlyNotFound as Parameters<FastifyInstance['setNotFoundHandler']>[0], notFound);
  },
  { name: 'problem' },
);
