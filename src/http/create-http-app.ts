// The base every HTTP service starts from (gateway, ingestion, the processor's ops port): zod schemas as
// validators and serializers, problem+json errors, request ids from X-Request-Id, request lines at debug.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions, type RawServerDefault } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../config/logger.js';
import { problemPlugin } from './problem.js';
import { logRequestsAtDebug, quietRequestLogController } from './request-log.js';

export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

export async function createHttpApp({
  logger,
  component,
  ...options
}: { logger: Logger; component: string } & Pick<
  FastifyServerOptions,
  'bodyLimit' | 'requestTimeout' | 'onProtoPoisoning' | 'onConstructorPoisoning' | 'trustProxy'
>): Promise<HttpApp> {
  const app = Fastify({
    // Prototype-poisoning keys in a body are a client error, never silently stripped. A service that
    // finds them itself, to name their path, may ask for 'ignore' (JSON.parse then keeps them as own keys).
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ...options,
    // Node looks for requests past requestTimeout every connectionsCheckingInterval (30 s by default): a slow
    // body was cut up to 30 s late. A quarter of the timeout keeps the cut within 1.25 × REQUEST_TIMEOUT_MS.
    ...(options.requestTimeout ? { http: { connectionsCheckingInterval: connectionsCheckingMs(options.requestTimeout) } } : {}),
    loggerInstance: logger.child({ component }) as FastifyBaseLogger,
    // A client's X-Request-Id names its request in our logs when it is a plain token (at most 128 of
    // [A-Za-z0-9._:-]); anything else is replaced by one of ours. Either is echoed in the answer's X-Request-Id.
    requestIdHeader: false,
    genReqId: requestIdOf,
    logController: quietRequestLogController(),
  }).withTypeProvider<ZodTypeProvider>();
  // Fastify sets requestTimeout on a server built with Node's default headersTimeout (60 s); while that is the
  // longer, Node cuts a request still sending its body only at headersTimeout, checked every 30 s: a body
  // dripped a byte a second held its connection (and the upload place it took) 90 s, not REQUEST_TIMEOUT_MS.
  if (options.requestTimeout) app.server.headersTimeout = Math.min(app.server.headersTimeout, options.requestTimeout);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  logRequestsAtDebug(app);
  await app.register(problemPlugin);
  return app;
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's id: the client's X-Request-Id when it is a plain token, else a new one. */
function requestIdOf(request: IncomingMessage): string {
  const sent = request.headers['x-request-id'];
  return typeof sent === 'string' && CLIENT_REQUEST_ID.test(sent) ? sent : randomUUID();
}

/** How often Node checks for requests past `requestTimeoutMs`: a quarter of it, between 250 ms and Node's 30 s. */
export const connectionsCheckingMs = (requestTimeoutMs: number) => Math.min(30_000, Math.max(250, Math.round(requestTimeoutMs / 4)));

/** The URL a listening app answers on. */
export function addressOf(app: FastifyInstance): string {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
